## Usar un código y unirse a una clase.

activate-code-title = Usar un código
activate-code-intro = Escribe el código de acceso que te dieron. Las mayúsculas y minúsculas cuentan.
activate-code = Código de acceso
activate-next = Siguiente
activate-have-class-code = ¿Tienes un código de clase? Únete a una clase
activate-back-to-sign-in = Volver a iniciar sesión

activate-account-title = Prepara tu cuenta
activate-parent-heading = Crea tu cuenta de familia
activate-hello = ¡Hola, { $name }!
activate-parent-links = Este código une tu cuenta con { $name }.
activate-choose = Elige el nombre de usuario y la contraseña con los que iniciarás sesión.
activate-your-first-name = Tu nombre
activate-your-last-name = Tus apellidos
activate-username = Nombre de usuario
activate-username-help = De 3 a 64 letras, cifras, puntos, guiones bajos o guiones.
activate-email = Dirección de correo
activate-password = Contraseña
activate-confirm-password = Repite la contraseña
activate-create = Crear mi cuenta

join-title = Unirse a una clase
join-intro = Escribe el código de clase que te enseñó tu docente y luego elige el nombre de usuario y la contraseña con los que iniciarás sesión.
join-class-code = Código de clase
join-class-code-help = Da igual mayúsculas o minúsculas, y los espacios no importan.
join-first-name = Nombre
join-last-name = Apellidos
join-username = Nombre de usuario
join-button = Unirme a la clase
join-have-access-code = ¿Tienes un código de acceso? Usa un código
