## Lo que ve un alumno: su página de inicio (/home: sus clases y sus
## docentes, su cuenta, Unirse a otra clase) y la página Unirse a otra
## clase (/classes/join).

learner-hello = Hola, { $name }
# Bajo el saludo: el nombre de usuario y el nombre del rol (role-learner).
learner-signed-in-as = Has entrado como { $username } ({ $role }).
learner-intro = Tus clases, y dónde cambiar tu contraseña.

learner-your-classes = Tus clases
learner-no-class = Todavía no estás en ninguna clase. Pide a tu docente el código de la clase y luego únete aquí abajo.
# Los docentes de una clase: "Docente: Tom Baker", "Docentes: Tom Baker y Lena Fischer".
learner-class-teachers = { $count ->
    [one] Docente
   *[other] Docentes
}: { $names }
# Une el último de varios nombres: "Tom Baker y Lena Fischer", "A, B y C".
learner-names-and = { $names } y { $last }

learner-your-account = Tu cuenta
learner-account-intro = Cambia tu contraseña y mira dónde has entrado con tu cuenta.

learner-join-another = Unirse a otra clase
learner-join-intro = Escribe el código de la clase que te enseñó tu docente.
learner-class-code = Código de la clase
learner-class-code-help = El código que te enseñó tu docente para la clase.
learner-join-button = Unirme a la clase
learner-back-home = Volver al inicio
learner-joined = ¡Ya estás en { $class }!
learner-already-in = Ya estabas en { $class }.
