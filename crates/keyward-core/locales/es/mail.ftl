## Correos.

mail-hello = Hola, { $name }:
mail-hello-all = Hola:
mail-footer-html = keyward envió este correo automáticamente. Por favor, no lo respondas.
mail-footer-html-school = keyward envió este correo automáticamente para { $school }. Por favor, no lo respondas.
mail-footer-text = Este correo se envió automáticamente. Por favor, no lo respondas.
mail-copy-address = O copia esta dirección en tu navegador: { $link }
mail-ignore = Si no lo pediste tú, puedes ignorar este correo.
mail-someone-asked = alguien (esperamos que tú) pidió cambiar la contraseña de la cuenta de keyward { $username }.
mail-nothing-to-do = Si fuiste tú, no tienes que hacer nada más.
mail-not-me-button = No fui yo

mail-test-subject = keyward puede enviar correos
mail-test-body = este es un mensaje de prueba de keyward. Si puedes leerlo, keyward puede enviar correos.
mail-test-open = Abrir keyward

mail-reset-subject = Cambia tu contraseña de keyward
mail-reset-by-admin = { $admin }, que administra tu cuenta, pidió a keyward que te enviara este correo para que puedas elegir una contraseña nueva para la cuenta de keyward { $username }.
mail-reset-button = Cambiar contraseña
mail-reset-link-works = El enlace funciona durante { $ttl } y una sola vez.
mail-reset-open-link = Para elegir una contraseña nueva, abre este enlace (funciona durante { $ttl } y una sola vez):
mail-reset-code-html = O escribe este código en la página que viste después de pedirlo (funciona durante { $ttl }):
mail-reset-code-text = Si en este dispositivo es difícil abrir el enlace, escribe este código en la página que viste después de pedirlo (funciona durante { $ttl }):
mail-reset-ignore = Si no lo pediste tú, puedes ignorar este correo: tu contraseña sigue igual.
mail-reset-by-admin-stopped = Si el enlace ha dejado de funcionar, vuelve a pedírselo a quien administra tu cuenta, o usa «¿Has olvidado tu contraseña?» en la página de inicio de sesión. Tu contraseña actual sigue funcionando hasta que elijas una nueva.

mail-contact-admin-subject = Sobre el cambio de tu contraseña de keyward
mail-contact-admin-body = Todavía no se puede cambiar la contraseña de esta cuenta por correo, porque nunca se ha iniciado sesión con ella. Pide a quien administra el sistema (o a tu docente) que cambie tu contraseña.
mail-contact-admin-body-school = Todavía no se puede cambiar la contraseña de esta cuenta por correo, porque nunca se ha iniciado sesión con ella. Pide a quien administra el sistema en { $school } (o a tu docente) que cambie tu contraseña.

mail-sso-subject = Inicia sesión en keyward con { $provider }
mail-sso-no-password = Esta cuenta no tiene contraseña de keyward: inicias sesión con { $provider }.
mail-sso-open-link = Para iniciar sesión, abre este enlace y usa tu cuenta de { $provider }:
mail-sso-cannot = Si no puedes iniciar sesión con { $provider }, pide ayuda a quien administra el sistema (o a tu docente).
mail-sso-cannot-school = Si no puedes iniciar sesión con { $provider }, pide ayuda a quien administra el sistema en { $school } (o a tu docente).

mail-password-changed-subject = Se ha cambiado tu contraseña de keyward
mail-password-changed-body = la contraseña de tu cuenta de keyward { $username } se cambió el { $when }. La verificación en dos pasos, si la usas, no ha cambiado.
mail-password-changed-act-html = Si no fuiste tú, actúa enseguida: esto cierra la sesión de tu cuenta en todas partes y avisa a quienes administran tu escuela.
mail-password-changed-act-text = Si no fuiste tú, abre este enlace enseguida. Cierra la sesión de tu cuenta en todas partes y avisa a quienes administran tu escuela:

mail-email-changed-subject = Se ha cambiado tu dirección de correo de keyward
mail-email-changed-body = la dirección de correo de tu cuenta de keyward { $username } se cambió el { $when }. keyward escribe ahora a { $address } y ya no a esta dirección: los enlaces para cambiar la contraseña también van allí.
mail-email-changed-act-html = Si no fuiste tú, otra persona conoce tu contraseña. Actúa enseguida: esto cierra la sesión de tu cuenta en todas partes y avisa a quienes administran tu escuela, que pueden ayudarte a recuperar tu cuenta.
mail-email-changed-act-text = Si no fuiste tú, otra persona conoce tu contraseña. Abre este enlace enseguida: cierra la sesión de tu cuenta en todas partes y avisa a quienes administran tu escuela, que pueden ayudarte a recuperar tu cuenta.

mail-not-me-alert-subject = Alerta de seguridad: { $username } avisa de un cambio que no hizo
mail-not-me-alert-body = { $name } ({ $username }) avisó el { $when } de que un cambio reciente en su cuenta de keyward (su contraseña o su dirección de correo) no lo hizo esa persona.
mail-not-me-alert-todo = keyward ha cerrado la sesión de la cuenta en todas partes y ha anulado cualquier enlace abierto para cambiar la contraseña. Ponte en contacto con esa persona, revisa la actividad reciente de la cuenta en el registro de auditoría y ayúdale a elegir una contraseña nueva. Si cambiaron su dirección de correo, un enlace para cambiar la contraseña iría ahora a esa dirección nueva, no a esa persona.

mail-mfa-reset-subject = Se ha quitado la verificación en dos pasos de tu cuenta de keyward
mail-mfa-reset-your-administrator = tu administrador
mail-mfa-reset-body = { $admin }, que administra tu cuenta, quitó el { $when } la verificación en dos pasos de tu cuenta de keyward { $username }: su aplicación de autenticación, sus códigos de recuperación y sus llaves de acceso ya no funcionan, y se cerró tu sesión en todas partes.
mail-mfa-reset-again = Ahora inicias sesión solo con tu contraseña. Vuelve a activar la verificación en dos pasos en { $place } en cuanto puedas.
mail-mfa-reset-place = Ajustes de la cuenta > Verificación en dos pasos
mail-mfa-reset-not-asked = Si no lo pediste, avisa enseguida a quienes administran tu escuela.
