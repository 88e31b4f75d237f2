## ¿Has olvidado tu contraseña?

recovery-request-title = Contraseña olvidada
recovery-request-heading = ¿Has olvidado tu contraseña?
recovery-request-intro-both = Escribe tu dirección de correo registrada y tu nombre de usuario. Hacen falta los dos.
recovery-request-intro-email = Escribe la dirección de correo de tu cuenta.
recovery-request-intro-username = Escribe tu nombre de usuario. Si tu cuenta tiene una dirección de correo, te enviaremos un enlace y un código para elegir una contraseña nueva.
recovery-email = Dirección de correo
recovery-username = Nombre de usuario
recovery-next = Siguiente
recovery-send-reset-link = Enviar enlace
recovery-back-to-sign-in = Volver a iniciar sesión

recovery-sent-title = Mira tu correo
recovery-sent-status = Si hay una cuenta que coincide con lo que escribiste y tiene dirección de correo, le hemos enviado un mensaje con un enlace para elegir una contraseña nueva. El enlace funciona durante { $ttl }.
recovery-sent-code-intro = ¿No puedes usar el enlace? El mismo correo trae un código de 8 cifras. Escríbelo aquí, en este dispositivo:
recovery-sent-code = Código del correo
recovery-sent-continue = Continuar
recovery-sent-no-email = ¿No llega el correo después de unos minutos? Mira en la carpeta de spam o correo no deseado. Si tu cuenta no tiene dirección de correo, o nunca has iniciado sesión, pide ayuda a tu docente o a quien administra tu escuela.
recovery-sent-send-another = Enviar otro correo

recovery-reset-title = Elige una contraseña nueva
recovery-reset-for-account = Para la cuenta { $username }.
recovery-new-password = Contraseña nueva
recovery-confirm-password = Repite la contraseña nueva
recovery-reset-password = Cambiar contraseña

recovery-sso-title = Inicias sesión con { $provider }
recovery-sso-status = Tu cuenta no tiene contraseña de keyward que cambiar: inicias sesión con tu cuenta de { $provider }.
recovery-sso-if-cannot = Si no puedes iniciar sesión con { $provider }, pide ayuda a quien administra tu escuela (o a tu docente).

link-problem-unknown = Este enlace no funciona
link-problem-expired = Este enlace ha caducado
link-problem-used = Este enlace ya se ha usado
link-problem-no-longer = Este enlace ya no funciona
link-problem-request-new = Pedir un enlace nuevo
link-problem-security-heading = Este enlace de seguridad ya no funciona
link-problem-security-used = Este enlace ya se ha usado: se cerró la sesión de tu cuenta en todas partes y se avisó a quienes administran tu escuela.
link-problem-security-expired = Este enlace ha caducado.
link-problem-security-unknown = Este enlace no es nuestro. Comprueba que lo copiaste entero.
link-problem-security-advice = Si crees que otra persona conoce tu contraseña, elige una nueva ahora y avisa a quien administra tu escuela.
link-problem-choose-new-password = Elegir una contraseña nueva

not-me-title = Protege tu cuenta
not-me-done-heading = Tu cuenta está protegida
not-me-done-status = Hemos cerrado la sesión de tu cuenta en todas partes y hemos avisado a quienes administran tu escuela. Elige ahora una contraseña nueva para que solo tú puedas entrar.
not-me-done-email-changed = Si cambiaron tu dirección de correo, un enlace para cambiar la contraseña iría a la dirección nueva: en ese caso pide ayuda a quienes administran tu escuela.
not-me-heading = ¿No fuiste tú?
not-me-intro = Si no hiciste este cambio en tu cuenta, puede que otra persona conozca tu contraseña. Podemos cerrar la sesión de tu cuenta en todos los dispositivos y avisar a quienes administran tu escuela.
not-me-button = Cerrar sesión en todas partes y avisar a mis administradores
