// Progressive enhancement only: every page works without this file.
// Show/hide toggles for password fields (buttons start hidden, shown here).
document.querySelectorAll('[data-toggle-password]').forEach(function (button) {
  var input = document.getElementById(button.getAttribute('data-toggle-password'));
  if (!input) return;
  // The name stays fixed ("Show new password"); aria-pressed says the state,
  // so a screen reader announces it once.
  button.hidden = false;
  button.setAttribute('aria-pressed', 'false');
  button.setAttribute('aria-controls', input.id);
  button.addEventListener('click', function () {
    var showing = input.type === 'text';
    input.type = showing ? 'password' : 'text';
    button.setAttribute('aria-pressed', showing ? 'false' : 'true');
  });
});

// Live password hints: tick off each rule as it is met, and estimate strength.
// The server checks again; this only helps while typing.
document.querySelectorAll('[data-password-hints]').forEach(function (list) {
  var input = document.getElementById(list.getAttribute('data-password-hints'));
  if (!input) return;
  // The username the password must not contain: the one the page names, or
  // else the one being typed in the same form (Use a code, or a reset page
  // that asks for the username again and so must not carry it).
  var named = (list.getAttribute('data-username') || '').toLowerCase();
  var typed = input.form ? input.form.querySelector('input[name="username"]:not([type="hidden"])') : null;
  function username() { return named || (typed ? typed.value.toLowerCase() : ''); }
  var strength = document.querySelector('[data-strength-for="' + input.id + '"]');
  // The words come from the page, in its language (English if it has none).
  function said(el, key, english) { return (el && el.getAttribute('data-' + key)) || english; }
  function met(rule, value, text) {
    var length = Array.from(text).length;
    switch (rule) {
      case 'min': return length >= value;
      case 'lower': return /\p{Ll}/u.test(text);
      case 'upper': return /\p{Lu}/u.test(text);
      case 'digit': return /[0-9]/.test(text);
      case 'nospecial': return text.length > 0 && /^[\p{L}\p{N}]*$/u.test(text);
      case 'username': {
        var name = username();
        return text.length > 0 && (name.length < 3 || text.toLowerCase().indexOf(name) === -1);
      }
      default: return false; // 'common' is known only to the server
    }
  }
  function estimate(text) {
    var pool = 0;
    if (/[a-z]/.test(text)) pool += 26;
    if (/[A-Z]/.test(text)) pool += 26;
    if (/[0-9]/.test(text)) pool += 10;
    if (/[^A-Za-z0-9]/.test(text)) pool += 33;
    var bits = Array.from(text).length * Math.log2(Math.max(pool, 1));
    if (text.length === 0) return '';
    if (bits < 28) return said(strength, 'weak', 'Strength: weak');
    if (bits < 45) return said(strength, 'fair', 'Strength: fair');
    if (bits < 60) return said(strength, 'good', 'Strength: good');
    return said(strength, 'strong', 'Strength: strong');
  }
  // Each rule says in words whether it is met, not by colour alone.
  list.querySelectorAll('li[data-rule]').forEach(function (item) {
    var state = document.createElement('span');
    state.className = 'visually-hidden hint-state';
    item.appendChild(state);
  });
  function update() {
    list.querySelectorAll('li[data-rule]').forEach(function (item) {
      var ok = met(item.getAttribute('data-rule'), Number(item.getAttribute('data-value')), input.value);
      item.classList.toggle('met', ok);
      var state = item.querySelector('.hint-state');
      if (state) state.textContent = ' ' + (ok ? said(list, 'met', '(done)') : said(list, 'not-met', '(not yet)'));
    });
    if (strength) strength.textContent = estimate(input.value);
  }
  input.addEventListener('input', update);
  if (typed) typed.addEventListener('input', update);
  update();
});

// After a form comes back with problems, move focus to the list of problems
// so that it is read out first.
var problems = document.querySelector('[data-focus-on-load]');
if (problems) problems.focus();

// Print buttons (the whole-class reset's result): shown only with JavaScript,
// since printing from the browser's menu works without it.
document.querySelectorAll('[data-print]').forEach(function (button) {
  button.hidden = false;
  button.addEventListener('click', function () { window.print(); });
});
