// Passkeys (WebAuthn) for the pages that offer them: Account Settings'
// "Add a passkey", and signing in with a passkey. The server's JSON API
// holds every ceremony (the options come from it, the browser's answer goes
// back to it); this file only moves them between the API and
// navigator.credentials. Without it the pages say that passkeys need
// JavaScript, and everything else still works.
(function () {
  'use strict';

  var supported = !!(window.PublicKeyCredential && navigator.credentials &&
    typeof navigator.credentials.create === 'function');

  function toBytes(text) {
    var base64 = text.replace(/-/g, '+').replace(/_/g, '/');
    while (base64.length % 4) base64 += '=';
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = '';
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function withIds(list) {
    return (list || []).map(function (item) {
      return Object.assign({}, item, { id: toBytes(item.id) });
    });
  }

  // The server's options (binary fields in base64url) as the browser wants them.
  function creationOptions(options) {
    var o = Object.assign({}, options.publicKey);
    o.challenge = toBytes(o.challenge);
    o.user = Object.assign({}, o.user, { id: toBytes(o.user.id) });
    if (o.excludeCredentials) o.excludeCredentials = withIds(o.excludeCredentials);
    return o;
  }

  function requestOptions(options) {
    var o = Object.assign({}, options.publicKey);
    o.challenge = toBytes(o.challenge);
    if (o.allowCredentials) o.allowCredentials = withIds(o.allowCredentials);
    return o;
  }

  // The browser's answer as the server reads it (binary fields in base64url).
  function registrationAnswer(credential) {
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      response: {
        attestationObject: toText(credential.response.attestationObject),
        clientDataJSON: toText(credential.response.clientDataJSON)
      },
      extensions: {}
    };
  }

  function assertionAnswer(credential) {
    var r = credential.response;
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      response: {
        authenticatorData: toText(r.authenticatorData),
        clientDataJSON: toText(r.clientDataJSON),
        signature: toText(r.signature),
        userHandle: r.userHandle ? toText(r.userHandle) : null
      },
      extensions: {}
    };
  }

  // POSTs JSON; resolves with the answer's JSON, or rejects with its message.
  function post(url, body, csrf) {
    var headers = { 'Content-Type': 'application/json', 'Accept': 'application/json' };
    if (csrf) headers['X-CSRF-Token'] = csrf;
    return fetch(url, {
      method: 'POST',
      headers: headers,
      body: JSON.stringify(body),
      credentials: 'same-origin'
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var problem = new Error(data.message || 'Something went wrong. Try again.');
          problem.code = data.error;
          throw problem;
        }
        return data;
      });
    });
  }

  // What to tell when the browser's dialog did not give a passkey.
  function dialogProblem(err, adding) {
    if (err && err.name === 'NotAllowedError') {
      return adding
        ? 'The passkey dialog was closed or timed out, so no passkey was added. Try again when you are ready.'
        : 'The passkey dialog was closed or timed out. Try again, or sign in with your password.';
    }
    if (err && err.name === 'InvalidStateError') {
      return 'This device already holds a passkey for your account.';
    }
    return (err && err.message) || 'Something went wrong. Try again.';
  }

  function show(box, message) {
    if (!box) return;
    box.textContent = message;
    box.hidden = false;
    box.focus();
  }

  // Account Settings: Add a passkey.
  document.querySelectorAll('form[data-passkey-register]').forEach(function (form) {
    var notice = document.querySelector('[data-passkeys-need-js]');
    if (!supported) {
      if (notice) notice.textContent = 'This browser cannot use passkeys. Try another browser or device.';
      return;
    }
    if (notice) notice.hidden = true;
    form.hidden = false;
    var error = form.querySelector('[data-passkey-error]');
    var button = form.querySelector('button[type="submit"]');
    var csrf = form.getAttribute('data-csrf-token');
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      if (error) error.hidden = true;
      button.disabled = true;
      var start = {
        name: form.elements.name.value,
        current_password: form.elements.current_password.value
      };
      post('/api/v1/me/passkeys/registration', start, csrf).then(function (started) {
        return navigator.credentials.create({ publicKey: creationOptions(started.options) })
          .catch(function (err) { throw new Error(dialogProblem(err, true)); })
          .then(function (credential) {
            return post('/api/v1/me/passkeys', {
              ceremony: started.ceremony,
              credential: registrationAnswer(credential)
            }, csrf);
          });
      }).then(function () {
        window.location.assign('/account/passkeys?notice=added');
      }).catch(function (err) {
        form.elements.current_password.value = '';
        button.disabled = false;
        show(error, err.message);
      });
    });
  });

  // Sign in with a passkey (first screen) and Use a passkey (second step).
  // The button names the calls (data-start, data-finish), where to go
  // afterwards (data-next), where to tell a problem (data-error, the id of
  // an alert) and the CSRF token if the calls need one.
  document.querySelectorAll('[data-passkey-sign-in]').forEach(function (button) {
    var notice = document.querySelector('[data-passkeys-need-js]');
    if (!supported) {
      if (notice) notice.textContent = 'This browser cannot use passkeys.';
      return;
    }
    if (notice) notice.hidden = true;
    button.hidden = false;
    var error = document.getElementById(button.getAttribute('data-error') || '');
    var csrf = button.getAttribute('data-csrf-token');
    button.addEventListener('click', function () {
      if (error) error.hidden = true;
      button.disabled = true;
      post(button.getAttribute('data-start'), {}, csrf).then(function (started) {
        return navigator.credentials.get({ publicKey: requestOptions(started.options) })
          .catch(function (err) { throw new Error(dialogProblem(err, false)); })
          .then(function (credential) {
            return post(button.getAttribute('data-finish'), {
              ceremony: started.ceremony,
              credential: assertionAnswer(credential)
            }, csrf);
          });
      }).then(function () {
        window.location.assign(button.getAttribute('data-next') || '/home');
      }).catch(function (err) {
        if (err.code === 'sign_in_step_expired') {
          window.location.assign('/signin?notice=step_expired');
          return;
        }
        button.disabled = false;
        show(error, err.message);
      });
    });
  });
})();
