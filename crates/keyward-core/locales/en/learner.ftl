## What a learner meets: her home page (/home: her classes and their
## teachers, her account, Join another class) and the Join another class
## page (/classes/join). Translated whole into every language, so a
## learner reads her own pages in the language she or her browser chose.

learner-hello = Hello, { $name }
# Under the greeting: the username, then the role's name (role-learner).
learner-signed-in-as = Signed in as { $username } ({ $role }).
learner-intro = Your classes, and where to change your password.

learner-your-classes = Your classes
learner-no-class = You are not in a class yet. Ask your teacher for the class code, then join below.
# A class's teachers: "Teacher: Tom Baker", "Teachers: Tom Baker and Lena Fischer".
learner-class-teachers = { $count ->
    [one] Teacher
   *[other] Teachers
}: { $names }
# Joins the last of several names: "Tom Baker and Lena Fischer", "A, B and C"
# ($names are the others, with commas).
learner-names-and = { $names } and { $last }

learner-your-account = Your account
learner-account-intro = Change your password, and see where you are signed in.

learner-join-another = Join another class
learner-join-intro = Type the class code your teacher showed you.
learner-class-code = Class code
learner-class-code-help = The code your teacher showed you for the class.
learner-join-button = Join class
learner-back-home = Back to home
learner-joined = You have joined { $class }.
learner-already-in = You are already in { $class }.
