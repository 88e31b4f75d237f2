## The home page's dashboards (/home) of a teacher, a lead teacher, a
## platform admin and a parent (a learner's is in learner.ftl), and a
## parent's Your children page (/children).

home-hello = Hello, { $name }
# Under the greeting: the username, then the role's name (role-…).
home-signed-in-as = Signed in as { $username } ({ $role }).
home-intro-platform-admin = The schools on this keyward, and where to look after them.
home-intro-lead-teacher = Your school at a glance, your classes, and the places you use most.
home-intro-teacher = Your classes, and what you can do for each of them.
home-intro-parent = Your children, and how to help them sign in.

## A school's numbers: the lead teacher's tiles, and the columns of the
## platform admin's table of schools.
home-your-school = Your school
home-schools = Schools
# $command and $api are shown as code, as they are.
home-no-schools = There are no schools yet. Create one with { $command } or the API ({ $api }).
home-schools-caption = Schools with their numbers
home-school = School
home-classes = Classes
home-learners = Learners
home-teachers = Teachers
home-parents = Parents
home-not-activated = Not activated yet
home-actions = Actions
home-people = People
home-single-sign-on = Single sign-on

## A teacher's classes.
home-your-classes = Your classes
home-no-class-teacher = You don't teach a class yet. Your lead teacher can add you to one.
home-no-class-lead-teacher = You don't teach a class yet. Every class of the school is in the Class database.
# After the number of learners, shown large.
home-class-learners = { $count ->
    [one] learner
   *[other] learners
}
home-class-pending = { $count } not started yet (waiting to use an access code)
# Followed by the class code, or by home-class-code-off.
home-class-code = Class code:
home-class-code-off = switched off
home-user-accounts = User accounts
home-show-access-codes = Show access codes
home-reset-whole-class = Reset password for the whole class

## A parent's children.
home-your-children = Your children
home-no-children = No child is linked to your account yet. Link one with the parent access code from school.
# Followed by the child's username.
home-child-username = Username:
# $button is the first screen's button (signin-use-a-code), in bold.
home-child-not-set-up = Has not set up the account yet: the school gives { $name } an access code for { $button }.
home-child-class-with = { $class }, with { $teachers }
home-child-forgot = Forgotten password? A teacher of { $name }'s class can give a new one.
home-link-another-child = Link another child
# Joins the last of several names: "Tom Baker and Lena Fischer".
home-names-and = { $names } and { $last }

## Shortcuts: the places a person's permissions open, with a line on each.
home-shortcuts = Shortcuts
home-shortcut-class-database = Class database
home-shortcut-class-database-about = Every class with its code and learners, and each learner's Reset password.
home-shortcut-student-database = Student database
home-shortcut-student-database-about = Every learner of the school.
home-shortcut-subscription = Subscription management
home-shortcut-subscription-about = The school's pages: User accounts, School settings and more.
home-shortcut-roster = Import learners
home-shortcut-roster-about = Add a class list from a CSV file (roster import).
home-shortcut-sso = Single sign-on
home-shortcut-sso-about = Let people sign in with Google Workspace, Microsoft Entra or another provider.
home-shortcut-users = Users
home-shortcut-users-about = Find anyone, reset a password, add a person.
home-shortcut-audit = Audit log
home-shortcut-audit-about = Who did what, and when.

## Your children (/children), a parent's page.
children-title = Your children
children-intro = The children linked to your account, and how to help each of them sign in.
children-none = No child is linked to your account yet.
# $code is children-the-code, in bold.
children-ask-school = Ask your child's school for their { $code }, then type it below.
children-the-code = parent access code
children-username = Username
children-signs-in-at = Signs in at
children-forgot = Forgot their password? { $name }'s teacher can show it or give them a new one. Parents can't see or change a child's password.
children-not-set-up = Not set up yet
# $button is the first screen's button (signin-use-a-code), in bold;
# $address where it is.
children-set-up-how = { $name }'s teacher has their access code. With it, { $name } chooses a username and password at { $button }: { $address }
# Stands for a child whose first name is not known.
children-your-child = your child
children-link-another = Link another child
children-code = Parent access code
children-code-hint = The school gives one for each child, on paper or by email.
children-link = Link child
children-linked = Your child is now linked to your account.
