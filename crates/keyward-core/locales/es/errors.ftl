## Las negativas del núcleo, por su código (pages::words). El inglés es el
## del propio núcleo (sus mensajes son también los de la API), así que no
## hay locales/en/errors.ftl. Solo códigos cuyo mensaje en inglés no cambia
## según el caso, o una frase que sirve para todos sus casos.

error-invalid_credentials = El nombre de usuario y la contraseña no coinciden. Revísalos y vuelve a intentarlo.
error-input_too_long = Eso es más largo de lo que keyward acepta.
error-too_many_attempts = Demasiados intentos. Espera un poco y vuelve a intentarlo.
error-server_busy = El servidor está ocupado. Vuelve a intentarlo en un momento.
error-temporary_password_expired = Esta contraseña temporal ha caducado. Pide otra a quien administra tu cuenta, o usa «¿Has olvidado tu contraseña?».
error-username_missing = Escribe tu nombre de usuario.
error-username_too_short = Un nombre de usuario tiene al menos 3 caracteres.
error-username_too_long = Un nombre de usuario tiene como mucho 64 caracteres.
error-username_bad_character = Un nombre de usuario solo puede llevar letras, cifras, puntos, guiones bajos y guiones.
error-email_missing = Escribe tu dirección de correo.
error-email_invalid = Escribe una dirección de correo como nombre@ejemplo.org.
error-name_missing = Escribe tu nombre y tus apellidos, para que la escuela sepa quién eres.
error-link_unknown = Este enlace no es nuestro. Comprueba que lo copiaste entero, o pide un enlace nuevo.
error-link_expired = Este enlace ha caducado. Los enlaces funcionan durante un tiempo limitado; pide uno nuevo.
error-link_used = Este enlace ya no funciona: ya se usó, se envió otro más nuevo o tu cuenta ha cambiado desde entonces. Pide un enlace nuevo si lo necesitas.
error-username_mismatch = Ese nombre de usuario no es el de la cuenta de este enlace.
error-code_wrong = Ese código no es correcto. Revisa las 8 cifras del correo y vuelve a intentarlo.
error-code_expired = Ese código ha caducado. Pide uno nuevo.
error-code_too_many_tries = Demasiados códigos equivocados. Pide un correo nuevo.
error-code_no_request = Vuelve a empezar desde «¿Has olvidado tu contraseña?» en este dispositivo; el código solo funciona donde se pidió.
error-code_unknown = Ese código no funciona. Revísalo (las mayúsculas y minúsculas cuentan) o pide uno nuevo a tu docente.
error-code_used = Ese código ya se ha usado. Inicia sesión con el nombre de usuario que elegiste.
error-mfa_code_malformed = Escribe el código tal como lo ves: las 6 cifras de tu aplicación de autenticación, o tu código de recuperación.
error-mfa_code_wrong = Ese código no es correcto. Revisa tu aplicación de autenticación y vuelve a intentarlo.
error-mfa_code_used = Ese código ya se usó. Espera al siguiente código y escríbelo.
error-sign_in_step_expired = Tu inicio de sesión tardó demasiado o ya había terminado. Vuelve a iniciar sesión.
