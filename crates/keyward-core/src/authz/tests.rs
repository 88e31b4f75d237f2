//! The authorization matrix (R-AUTHZ-1): every role, plus a custom role,
//! against every action and targets in scope, in another class, in another
//! school and of higher privilege. The expected answers are written out here,
//! one line per actor and target: the actions allowed; everything else is
//! refused — with 404 outside the actor's school, 403 inside it.

use super::*;
use crate::types::random::SeededRandom;
use Action::*;

struct World {
    school_a: SchoolId,
    school_b: SchoolId,
    class_a1: ClassId,
    class_a2: ClassId,
    class_b1: ClassId,
    actors: Vec<(&'static str, Actor)>,
    users: Vec<(&'static str, UserTarget)>,
}

fn world() -> World {
    let rng = SeededRandom::new(42);
    let school_a = SchoolId::generate(&rng).unwrap();
    let school_b = SchoolId::generate(&rng).unwrap();
    let class_a1 = ClassId::generate(&rng).unwrap();
    let class_a2 = ClassId::generate(&rng).unwrap();
    let class_b1 = ClassId::generate(&rng).unwrap();
    let id = || UserId::generate(&rng).unwrap();
    let actor = |role, school: Option<&SchoolId>, granted, classes: Vec<ClassId>| Actor {
        user_id: id(),
        role,
        school_id: school.cloned(),
        granted,
        classes,
        token: None,
        second_factor_at_provider: false,
    };
    let office = PermissionSet::of(&[Permission::UsersView, Permission::UsersResetPassword]);
    let actors = vec![
        (
            "platform_admin",
            actor(Role::PlatformAdmin, None, PermissionSet::EMPTY, vec![]),
        ),
        (
            "lead_teacher",
            actor(
                Role::LeadTeacher,
                Some(&school_a),
                PermissionSet::EMPTY,
                vec![],
            ),
        ),
        (
            "teacher",
            actor(
                Role::Teacher,
                Some(&school_a),
                PermissionSet::EMPTY,
                vec![class_a1.clone()],
            ),
        ),
        (
            "learner",
            actor(
                Role::Learner,
                Some(&school_a),
                PermissionSet::EMPTY,
                vec![class_a1.clone()],
            ),
        ),
        (
            "parent",
            actor(Role::Parent, Some(&school_a), PermissionSet::EMPTY, vec![]),
        ),
        (
            "office",
            actor(Role::Teacher, Some(&school_a), office, vec![]),
        ),
    ];
    let user = |role, school: Option<&SchoolId>, classes: Vec<ClassId>| UserTarget {
        id: id(),
        role,
        school_id: school.cloned(),
        granted: PermissionSet::EMPTY,
        classes,
    };
    let users = vec![
        (
            "learner_a1",
            user(Role::Learner, Some(&school_a), vec![class_a1.clone()]),
        ),
        (
            "learner_a2",
            user(Role::Learner, Some(&school_a), vec![class_a2.clone()]),
        ),
        (
            "learner_b",
            user(Role::Learner, Some(&school_b), vec![class_b1.clone()]),
        ),
        (
            "teacher_a2",
            user(Role::Teacher, Some(&school_a), vec![class_a2.clone()]),
        ),
        ("lead_a", user(Role::LeadTeacher, Some(&school_a), vec![])),
        ("admin", user(Role::PlatformAdmin, None, vec![])),
    ];
    World {
        school_a,
        school_b,
        class_a1,
        class_a2,
        class_b1,
        actors,
        users,
    }
}

const EVERYTHING: &[Action] = &Action::ALL;
const ALL_BUT_SCHOOLS: &[Action] = &[
    ViewUser,
    ManageUser,
    ResetPassword,
    ResetMfa,
    ViewLearner,
    ResetLearnerPassword,
    ManageClass,
    ExportClassCredentials,
    ExportSchoolCredentials,
    ViewAudit,
    ManageRoles,
];
const NOT_ON_STAFF: &[Action] = &[
    ViewUser,
    ManageUser,
    ResetPassword,
    ResetMfa,
    ManageClass,
    ExportClassCredentials,
    ExportSchoolCredentials,
    ViewAudit,
    ManageRoles,
];
const ADMIN_ON_STAFF: &[Action] = &[
    ViewUser,
    ManageUser,
    ResetPassword,
    ResetMfa,
    ManageClass,
    ExportClassCredentials,
    ExportSchoolCredentials,
    ViewAudit,
    ManageRoles,
    ManageSchools,
];
const TEACHER_IN_CLASS: &[Action] = &[
    ManageClass,
    ViewLearner,
    ResetLearnerPassword,
    ExportClassCredentials,
];
const OFFICE: &[Action] = &[ViewUser, ResetPassword];
const NOTHING: &[Action] = &[];

/// (actor, target, allowed actions). Targets: `platform`, `school_a`,
/// `school_b`, `class_a1`, `class_a2`, `class_b1`, or a user of the world.
const EXPECTED: &[(&str, &str, &[Action])] = &[
    ("platform_admin", "platform", EVERYTHING),
    ("platform_admin", "school_a", EVERYTHING),
    ("platform_admin", "school_b", EVERYTHING),
    ("platform_admin", "class_a1", EVERYTHING),
    ("platform_admin", "class_a2", EVERYTHING),
    ("platform_admin", "class_b1", EVERYTHING),
    ("platform_admin", "learner_a1", EVERYTHING),
    ("platform_admin", "learner_a2", EVERYTHING),
    ("platform_admin", "learner_b", EVERYTHING),
    ("platform_admin", "teacher_a2", ADMIN_ON_STAFF),
    ("platform_admin", "lead_a", ADMIN_ON_STAFF),
    ("platform_admin", "admin", ADMIN_ON_STAFF),
    ("lead_teacher", "platform", NOTHING),
    ("lead_teacher", "school_a", ALL_BUT_SCHOOLS),
    ("lead_teacher", "school_b", NOTHING),
    ("lead_teacher", "class_a1", ALL_BUT_SCHOOLS),
    ("lead_teacher", "class_a2", ALL_BUT_SCHOOLS),
    ("lead_teacher", "class_b1", NOTHING),
    ("lead_teacher", "learner_a1", ALL_BUT_SCHOOLS),
    ("lead_teacher", "learner_a2", ALL_BUT_SCHOOLS),
    ("lead_teacher", "learner_b", NOTHING),
    ("lead_teacher", "teacher_a2", NOT_ON_STAFF),
    ("lead_teacher", "lead_a", NOT_ON_STAFF),
    ("lead_teacher", "admin", NOTHING),
    ("teacher", "platform", NOTHING),
    ("teacher", "school_a", NOTHING),
    ("teacher", "school_b", NOTHING),
    ("teacher", "class_a1", TEACHER_IN_CLASS),
    ("teacher", "class_a2", NOTHING),
    ("teacher", "class_b1", NOTHING),
    ("teacher", "learner_a1", TEACHER_IN_CLASS),
    ("teacher", "learner_a2", NOTHING),
    ("teacher", "learner_b", NOTHING),
    ("teacher", "teacher_a2", NOTHING),
    ("teacher", "lead_a", NOTHING),
    ("teacher", "admin", NOTHING),
    ("office", "platform", NOTHING),
    ("office", "school_a", OFFICE),
    ("office", "school_b", NOTHING),
    ("office", "class_a1", OFFICE),
    ("office", "class_a2", OFFICE),
    ("office", "class_b1", NOTHING),
    ("office", "learner_a1", OFFICE),
    ("office", "learner_a2", OFFICE),
    ("office", "learner_b", NOTHING),
    ("office", "teacher_a2", OFFICE),
    ("office", "lead_a", &[ViewUser]),
    ("office", "admin", NOTHING),
];

#[test]
fn the_full_matrix_of_roles_actions_and_targets() {
    let w = world();
    let targets: Vec<(&str, Target<'_>)> = {
        let mut t = vec![
            ("platform", Target::Platform),
            ("school_a", Target::School(&w.school_a)),
            ("school_b", Target::School(&w.school_b)),
            (
                "class_a1",
                Target::Class {
                    school: &w.school_a,
                    class: &w.class_a1,
                },
            ),
            (
                "class_a2",
                Target::Class {
                    school: &w.school_a,
                    class: &w.class_a2,
                },
            ),
            (
                "class_b1",
                Target::Class {
                    school: &w.school_b,
                    class: &w.class_b1,
                },
            ),
        ];
        t.extend(
            w.users
                .iter()
                .map(|(name, user)| (*name, Target::User(user))),
        );
        t
    };
    let outside = ["school_b", "class_b1", "learner_b", "admin"];
    let mut checked = 0;
    for (actor_name, actor) in &w.actors {
        for (target_name, target) in &targets {
            let allowed = EXPECTED
                .iter()
                .find(|(a, t, _)| a == actor_name && t == target_name)
                .map(|(_, _, allowed)| *allowed)
                .unwrap_or(NOTHING);
            for action in Action::ALL {
                let expected = if allowed.contains(&action) {
                    Ok(())
                } else if actor.role != Role::PlatformAdmin && outside.contains(target_name) {
                    Err(Denied::Hidden)
                } else {
                    Err(Denied::Forbidden)
                };
                assert_eq!(
                    authorize(actor, action, *target),
                    expected,
                    "{actor_name} {action:?} {target_name}"
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 6 * 12 * 12);
}

#[test]
fn learners_and_parents_may_do_nothing_to_others() {
    let w = world();
    for (name, actor) in w
        .actors
        .iter()
        .filter(|(n, _)| ["learner", "parent"].contains(n))
    {
        for (_, user) in &w.users {
            for action in Action::ALL {
                assert!(
                    authorize(actor, action, Target::User(user)).is_err(),
                    "{name} {action:?}"
                );
            }
        }
    }
}

#[test]
fn a_custom_role_cannot_touch_someone_holding_more() {
    let w = world();
    let office = &w.actors.iter().find(|(n, _)| *n == "office").unwrap().1;
    let lead = &w.users.iter().find(|(n, _)| *n == "lead_a").unwrap().1;
    assert_eq!(
        authorize(office, ResetPassword, Target::User(lead)),
        Err(Denied::Forbidden)
    );
    let mut peer = lead.clone();
    peer.role = Role::Teacher;
    peer.granted = PermissionSet::of(&[
        Permission::UsersView,
        Permission::UsersResetPassword,
        Permission::AuditView,
    ]);
    assert_eq!(
        authorize(office, ResetPassword, Target::User(&peer)),
        Err(Denied::Forbidden)
    );
    peer.granted = PermissionSet::of(&[Permission::UsersView]);
    assert_eq!(
        authorize(office, ResetPassword, Target::User(&peer)),
        Ok(())
    );
}

#[test]
fn nobody_resets_or_manages_themselves_through_the_admin_actions() {
    let w = world();
    let (_, lead) = w.actors.iter().find(|(n, _)| *n == "lead_teacher").unwrap();
    let (_, admin) = w
        .actors
        .iter()
        .find(|(n, _)| *n == "platform_admin")
        .unwrap();
    for actor in [lead, admin] {
        let me = UserTarget {
            id: actor.user_id.clone(),
            role: actor.role,
            school_id: actor.school_id.clone(),
            granted: actor.granted,
            classes: actor.classes.clone(),
        };
        for action in [ManageUser, ResetPassword, ResetMfa] {
            assert_eq!(
                authorize(actor, action, Target::User(&me)),
                Err(Denied::Forbidden),
                "{action:?}"
            );
        }
        assert_eq!(authorize(actor, ViewUser, Target::User(&me)), Ok(()));
    }
}

fn through_token(actor: &Actor, permissions: PermissionSet, school: Option<&SchoolId>) -> Actor {
    Actor {
        token: Some(TokenGrant {
            id: "0123456789abcdef0123456789abcdef".into(),
            permissions,
            school_id: school.cloned(),
        }),
        ..actor.clone()
    }
}

/// Every target of the world, by name.
fn targets(w: &World) -> Vec<(&'static str, Target<'_>)> {
    let mut t = vec![
        ("platform", Target::Platform),
        ("school_a", Target::School(&w.school_a)),
        ("school_b", Target::School(&w.school_b)),
        (
            "class_a1",
            Target::Class {
                school: &w.school_a,
                class: &w.class_a1,
            },
        ),
        (
            "class_b1",
            Target::Class {
                school: &w.school_b,
                class: &w.class_b1,
            },
        ),
    ];
    t.extend(
        w.users
            .iter()
            .map(|(name, user)| (*name, Target::User(user))),
    );
    t
}

#[test]
fn a_token_never_lets_its_owner_do_more_and_needs_the_permission_itself() {
    let w = world();
    let sets = [
        PermissionSet::EMPTY,
        PermissionSet::of(&[Permission::UsersView]),
        PermissionSet::of(&[Permission::UsersView, Permission::UsersResetPassword]),
        PermissionSet::of(&[Permission::LearnersView, Permission::LearnersResetPassword]),
        PermissionSet::all(),
    ];
    for (actor_name, actor) in &w.actors {
        for set in sets {
            let narrowed = through_token(actor, set, None);
            assert_eq!(
                narrowed.permissions(),
                actor.permissions().intersection(set)
            );
            for (target_name, target) in targets(&w) {
                for action in Action::ALL {
                    let with_token = authorize(&narrowed, action, target);
                    if with_token.is_ok() {
                        assert_eq!(
                            authorize(actor, action, target),
                            Ok(()),
                            "{actor_name} {set:?} {action:?} {target_name}"
                        );
                        assert!(set.contains(action.permission()));
                    }
                }
            }
        }
        // A token with everything is the owner, no more and no less.
        let full = through_token(actor, PermissionSet::all(), None);
        for (target_name, target) in targets(&w) {
            for action in Action::ALL {
                assert_eq!(
                    authorize(&full, action, target),
                    authorize(actor, action, target),
                    "{actor_name} {action:?} {target_name}"
                );
            }
        }
    }
}

#[test]
fn a_view_only_token_of_a_lead_teacher_views_and_resets_nothing() {
    let w = world();
    let (_, lead) = w.actors.iter().find(|(n, _)| *n == "lead_teacher").unwrap();
    let token = through_token(lead, PermissionSet::of(&[Permission::UsersView]), None);
    for (target_name, target) in targets(&w) {
        for action in Action::ALL {
            let expected = if action == ViewUser
                && ["school_a", "class_a1"]
                    .into_iter()
                    .chain(["learner_a1", "learner_a2", "teacher_a2", "lead_a"])
                    .any(|t| t == target_name)
            {
                Ok(())
            } else if ["school_b", "class_b1", "learner_b", "admin"].contains(&target_name) {
                Err(Denied::Hidden)
            } else {
                Err(Denied::Forbidden)
            };
            assert_eq!(
                authorize(&token, action, target),
                expected,
                "{action:?} {target_name}"
            );
        }
    }
}

#[test]
fn a_platform_admins_token_for_one_school_acts_in_that_school_alone() {
    let w = world();
    let (_, admin) = w
        .actors
        .iter()
        .find(|(n, _)| *n == "platform_admin")
        .unwrap();
    let token = through_token(admin, PermissionSet::all(), Some(&w.school_a));
    assert!(!token.platform_wide());
    assert_eq!(token.scope_school(), Some(&w.school_a));
    for (target_name, target) in targets(&w) {
        for action in Action::ALL {
            let expected = match target_name {
                "platform" => Err(Denied::Forbidden),
                "school_b" | "class_b1" | "learner_b" | "admin" => Err(Denied::Hidden),
                // Inside the school, the admin as they are.
                _ => authorize(admin, action, target),
            };
            assert_eq!(
                authorize(&token, action, target),
                expected,
                "{action:?} {target_name}"
            );
        }
    }
    // A school in a token of someone else's school reaches nothing.
    let (_, lead) = w.actors.iter().find(|(n, _)| *n == "lead_teacher").unwrap();
    let stray = through_token(lead, PermissionSet::all(), Some(&w.school_b));
    assert_eq!(stray.scope_school(), None);
    assert_eq!(
        authorize(&stray, ViewUser, Target::School(&w.school_a)),
        Err(Denied::Hidden)
    );
}
