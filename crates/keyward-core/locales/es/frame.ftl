## El marco de cada página (base.html, macros.html) y las piezas comunes
## de los formularios.

language-own-name = Español
frame-skip-to-content = Ir al contenido
frame-menu = Menú
frame-home = Inicio
frame-account-settings = Ajustes de la cuenta
frame-sign-out = Cerrar sesión
# Cómo llama un lector de pantalla al menú y a las migas de pan.
frame-main-menu = Principal
frame-breadcrumb = Ruta de navegación

## Los enlaces del menú según el rol, y el rol bajo el nombre.
menu-users = Usuarios
menu-class-database = Base de datos de la clase
menu-subscription-management = Gestión de la suscripción
menu-your-children = Tus hijos
menu-audit-log = Registro de auditoría
role-platform-admin = Administrador de la plataforma
role-lead-teacher = Docente responsable
role-teacher = Docente
role-learner = Alumno
role-parent = Madre o padre

## Formularios.
form-problems = Corrige esto, por favor:
password-show = Mostrar
password-show-named = Mostrar { $field }
password-rules-title = Tu nueva contraseña necesita:
password-rule-met = (hecho)
password-rule-not-met = (todavía no)
password-strength-weak = Seguridad: débil
password-strength-fair = Seguridad: aceptable
password-strength-good = Seguridad: buena
password-strength-strong = Seguridad: fuerte
password-hint-min = { $count ->
    [one] Al menos 1 carácter
   *[other] Al menos { $count } caracteres
}
password-hint-lower = Una letra minúscula
password-hint-upper = Una letra mayúscula
password-hint-digit = Un número
password-hint-nospecial = Solo letras y números, sin caracteres especiales
password-hint-username = Que no sea tu nombre de usuario
password-hint-common = Que no sea una contraseña corriente
# Una contraseña que incumple una regla (policy::Violation::message), bajo su campo.
password-violation-too-short = Usa al menos { $min } caracteres.
password-violation-too-long = Usa como mucho { $max } caracteres.
password-violation-missing-lowercase = Incluye una letra minúscula.
password-violation-missing-uppercase = Incluye una letra mayúscula.
password-violation-missing-digit = Incluye un número.
password-violation-special-character = Usa solo letras y números (sin caracteres especiales).
password-violation-common-password = Esta contraseña es demasiado corriente. Elige una más difícil de adivinar.
password-violation-contains-username = No uses tu nombre de usuario en la contraseña.
password-violation-mismatch = Las dos contraseñas no coinciden.
password-violation-same-as-temporary = Elige una contraseña nueva tuya, no la temporal.

## Duraciones.
duration-minutes = { $minutes ->
    [one] 1 minuto
   *[other] { $minutes } minutos
}
duration-hours = { $hours ->
    [one] 1 hora
   *[other] { $hours } horas
}
duration-hours-minutes = { $hours } { $minutes }

## Páginas de error.
error-heading-401 = Inicia sesión, por favor
error-heading-403 = Esta página no está abierta para ti
error-heading-404 = No encontramos esa página
error-heading-400 = Algo en esa petición no estaba bien
error-heading-409 = Eso ha cambiado mientras tanto
error-heading-410 = Eso ya no está disponible
error-heading-429 = Espera un momento, por favor
error-heading-503 = keyward está ocupado o en mantenimiento
error-heading-500 = Algo ha fallado por nuestra parte
error-heading-other = Eso no ha funcionado
error-go-home = Ir a tu página de inicio
error-go-sign-in = Ir a iniciar sesión
error-for-support = Si pides ayuda a alguien, dale esto:
error-for-support-status = error { $status }
error-for-support-request = petición
