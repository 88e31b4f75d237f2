// Progressive enhancement only: every page works without this file.
// Show/hide toggles for password fields (buttons start hidden, shown here).
document.querySelectorAll('[data-toggle-password]').forEach(function (button) {
  var input = document.getElementById(button.getAttribute('data-toggle-password'));
  if (!input) return;
  button.hidden = false;
  button.setAttribute('aria-pressed', 'false');
  button.setAttribute('aria-controls', input.id);
  button.addEventListener('click', function () {
    var showing = input.type === 'text';
    input.type = showing ? 'password' : 'text';
    button.textContent = showing ? 'Show' : 'Hide';
    button.setAttribute('aria-pressed', showing ? 'false' : 'true');
  });
});
