## Iniciar sesión.

signin-start-title = Te damos la bienvenida
signin-start-heading = Te damos la bienvenida a keyward
signin-start-intro = Inicia sesión con tu nombre de usuario y tu contraseña. Si te han dado un código de acceso, úsalo primero para preparar tu cuenta.
signin-sign-in = Iniciar sesión
signin-use-a-code = Usar un código
signin-with-passkey = Iniciar sesión con una llave de acceso
signin-passkey-needs-js = Para iniciar sesión con una llave de acceso hace falta JavaScript, que está desactivado o bloqueado en este navegador.
signin-forgot-password = ¿Has olvidado tu contraseña?
signin-notice-password-reset = Tu contraseña se ha cambiado. Inicia sesión con la nueva.
signin-notice-activated = Tu cuenta está lista. Inicia sesión con el nombre de usuario y la contraseña que elegiste.
signin-notice-joined = Ya estás en la clase y tu cuenta está lista. Inicia sesión con el nombre de usuario y la contraseña que elegiste.
signin-notice-step-expired = Tu inicio de sesión tardó demasiado o ya había terminado. Vuelve a iniciar sesión.

signin-username-title = Iniciar sesión
signin-username-intro = Escribe el nombre de usuario que te dio tu escuela o el que elegiste.
signin-username = Nombre de usuario
signin-next = Siguiente

signin-password-title = Escribe tu contraseña
signin-signing-in-as = Iniciando sesión como { $username }
signin-not-you = ¿No eres tú?
signin-password = Contraseña
signin-password-missing = Escribe tu contraseña.
signin-try-again-in = { $message } Puedes volver a intentarlo dentro de { $seconds ->
    [one] 1 segundo
   *[other] { $seconds } segundos
}.

signin-verify-title = Verificación en dos pasos
signin-verify-recovery-intro = Escribe uno de los códigos de recuperación que guardaste al activar la verificación en dos pasos. Cada código sirve una vez.
signin-verify-app-intro = Abre tu aplicación de autenticación y escribe el código de 6 cifras que muestra para keyward.
signin-verify-recovery-code = Código de recuperación
signin-verify-app-code = Código de 6 cifras
signin-verify = Verificar
signin-verify-use-app = Usar tu aplicación de autenticación
signin-verify-use-recovery = Usar un código de recuperación
signin-verify-passkey-or = O usa una de tus llaves de acceso en lugar de un código.
signin-verify-passkey-only = Usa una de tus llaves de acceso: tu dispositivo te pedirá su bloqueo de pantalla o tu llave de seguridad.
signin-verify-passkey-needs-js = Para usar una llave de acceso hace falta JavaScript, que está desactivado o bloqueado en este navegador.
signin-verify-passkey-switch-on = Actívalo (o usa otro navegador) para terminar de iniciar sesión.
signin-verify-use-passkey = Usar una llave de acceso
signin-verify-cancel = Cancelar y empezar de nuevo

sso-or-sign-in-with = O inicia sesión con la cuenta de tu escuela:
sso-sign-in-with-school = Iniciar sesión con la cuenta de tu escuela
sso-problem-try-again = Intentarlo de nuevo
sso-problem-use-password = Iniciar sesión con tu usuario y contraseña de keyward
sso-problem-back-to-start = Volver a la página de inicio
sso-problem-nobody-signed-in = No se ha iniciado ninguna sesión. Error { $status } · código { $code }
sso-heading-provider-unavailable = El servicio de inicio de sesión de tu escuela no respondió
sso-heading-provider-error = El servicio de inicio de sesión de tu escuela no te dejó entrar
sso-heading-token-invalid = No se pudo comprobar el inicio de sesión
sso-heading-unknown-person = No hay ninguna cuenta de keyward para iniciar sesión
sso-heading-role-not-allowed = No es para tu rol
sso-heading-provider-not-found = No existe ese servicio de inicio de sesión
sso-heading-too-many = Demasiados inicios de sesión a la vez
sso-heading-other = No se pudo terminar este inicio de sesión
sso-sign-in-with = Iniciar sesión con { $provider }
sso-sign-in-with-at-school = Iniciar sesión con { $provider } ({ $school })
