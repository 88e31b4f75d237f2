//! The demo data of `keyward demo`: one school with a platform admin, a lead
//! teacher, a teacher, a class of learners and a parent. Seeding is idempotent:
//! running it again keeps every row and sets the demo passwords it is given.

mod store;

use std::collections::BTreeMap;

use crate::Ctx;
use crate::Keyward;
use crate::accounts::{AccountStatus, NewUser, insert_user};
use crate::audit::{self, AuditEntry, action};
use crate::crypto::hashing::HashingError;
use crate::error::Internal;
use crate::types::Role;
use crate::types::{ClassId, EmailAddress, Password, SchoolId, UserId, Username};

pub const DEMO_SCHOOL_NAME: &str = "Riverside Primary School";
pub const DEMO_CLASS_NAME: &str = "Class 4B";

/// One demo person: role, username, first and last name.
pub struct DemoPerson {
    pub role: Role,
    pub username: &'static str,
    pub first_name: &'static str,
    pub last_name: &'static str,
    /// Staff and parents have an address (for **Forgot password?**); learners do not.
    pub email: Option<&'static str>,
}

/// Everyone the demo creates. The parent is linked to the first learner.
pub const DEMO_PEOPLE: &[DemoPerson] = &[
    DemoPerson {
        role: Role::PlatformAdmin,
        username: "demo.admin",
        first_name: "Pat",
        last_name: "Okafor",
        email: Some("admin@riverside.example"),
    },
    DemoPerson {
        role: Role::LeadTeacher,
        username: "demo.lead",
        first_name: "Lena",
        last_name: "Fischer",
        email: Some("lena.fischer@riverside.example"),
    },
    DemoPerson {
        role: Role::Teacher,
        username: "demo.teacher",
        first_name: "Tom",
        last_name: "Baker",
        email: Some("tom.baker@riverside.example"),
    },
    DemoPerson {
        role: Role::Learner,
        username: "demo.amy",
        first_name: "Amy",
        last_name: "Adams",
        email: None,
    },
    DemoPerson {
        role: Role::Learner,
        username: "demo.ben",
        first_name: "Ben",
        last_name: "Brown",
        email: None,
    },
    DemoPerson {
        role: Role::Learner,
        username: "demo.cara",
        first_name: "Cara",
        last_name: "Clark",
        email: None,
    },
    DemoPerson {
        role: Role::Parent,
        username: "demo.parent",
        first_name: "Paula",
        last_name: "Adams",
        email: Some("paula.adams@family.example"),
    },
];

/// The demo learner whose password is her own choice (a private password).
pub const PRIVATE_PASSWORD_LEARNER: &str = "demo.cara";

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("no password was given for demo account {0}")]
    MissingPassword(&'static str),
    #[error("the server is busy hashing passwords")]
    Busy,
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl From<HashingError> for DemoError {
    fn from(err: HashingError) -> Self {
        match err {
            HashingError::Busy { .. } => DemoError::Busy,
            HashingError::Internal(e) => DemoError::Internal(e),
        }
    }
}

impl From<sqlx::Error> for DemoError {
    fn from(err: sqlx::Error) -> Self {
        DemoError::Internal(err.into())
    }
}

impl Keyward {
    /// Creates the demo school and people when missing and sets each demo
    /// account's password to the one given (keyed by username).
    pub async fn seed_demo(
        &self,
        ctx: &Ctx<'_>,
        passwords: &BTreeMap<String, Password>,
    ) -> Result<(), DemoError> {
        let mut hashes = Vec::with_capacity(DEMO_PEOPLE.len());
        for person in DEMO_PEOPLE {
            let password = passwords
                .get(person.username)
                .ok_or(DemoError::MissingPassword(person.username))?;
            hashes.push(self.hashing.hash(password, ctx.rng).await?);
        }

        let mut tx = self.db.begin_write().await?;
        let school_id = match store::find_school_by_name(&mut tx, DEMO_SCHOOL_NAME).await? {
            Some(id) => id,
            None => {
                let id = SchoolId::generate(ctx.rng).map_err(Internal::from)?;
                crate::schools::store::insert_school(&mut tx, &id, DEMO_SCHOOL_NAME, ctx.now)
                    .await?;
                id
            }
        };
        let class_id = match store::find_class_by_name(&mut tx, &school_id, DEMO_CLASS_NAME).await?
        {
            Some(id) => id,
            None => {
                let id = ClassId::generate(ctx.rng).map_err(Internal::from)?;
                let code = crate::schools::generate_class_code(ctx)?;
                crate::schools::store::insert_class_with_code(
                    &mut tx,
                    &id,
                    &school_id,
                    DEMO_CLASS_NAME,
                    &code,
                    ctx.now,
                )
                .await?;
                id
            }
        };

        let mut ids = Vec::with_capacity(DEMO_PEOPLE.len());
        for (person, hash) in DEMO_PEOPLE.iter().zip(&hashes) {
            let username = Username::parse(person.username)
                .map_err(|e| Internal::new(format!("demo username {}: {e}", person.username)))?;
            let email = person
                .email
                .map(EmailAddress::parse)
                .transpose()
                .map_err(|e| Internal::new(format!("demo email of {}: {e}", person.username)))?;
            let id = match store::find_user_id(&mut tx, username.key()).await? {
                Some(id) => {
                    crate::accounts::set_password(&mut tx, &id, hash, ctx.now).await?;
                    id
                }
                None => {
                    let id = UserId::generate(ctx.rng).map_err(Internal::from)?;
                    let school = (person.role != Role::PlatformAdmin).then_some(&school_id);
                    insert_user(
                        &mut *tx,
                        &NewUser {
                            id: &id,
                            school_id: school,
                            role: person.role,
                            username: &username,
                            email: email.as_ref(),
                            first_name: person.first_name,
                            last_name: person.last_name,
                            status: AccountStatus::Active,
                            password_hash: Some(hash),
                            created_at: ctx.now,
                        },
                    )
                    .await?;
                    id
                }
            };
            // A teacher gave Amy and Ben their passwords, so they can be shown
            // again (R-TCH-4); Cara chose her own, which stays private.
            if person.role == Role::Learner && person.username != PRIVATE_PASSWORD_LEARNER {
                let password = passwords
                    .get(person.username)
                    .ok_or(DemoError::MissingPassword(person.username))?;
                let keep = crate::classroom::passwords::school_keeps_copies_in(&mut tx, &school_id)
                    .await?;
                crate::classroom::passwords::keep_staff_password(
                    &mut tx,
                    ctx,
                    &self.sealer,
                    &id,
                    password,
                    keep,
                )
                .await?;
            }
            ids.push((person.role, id));
        }

        let first_learner = ids
            .iter()
            .find(|(role, _)| *role == Role::Learner)
            .map(|(_, id)| id.clone());
        for (role, id) in &ids {
            match role {
                Role::Teacher | Role::LeadTeacher => {
                    crate::schools::add_teacher(&mut tx, &class_id, id).await?
                }
                Role::Learner => {
                    crate::schools::enrol(&mut tx, &class_id, id).await?;
                    // Every learner has a parent access code (R-CODE-3).
                    if !crate::activation::has_open_code(
                        &mut tx,
                        id,
                        crate::activation::CodeKind::Parent,
                    )
                    .await?
                    {
                        self.issue_code(&mut tx, ctx, id, crate::activation::CodeKind::Parent)
                            .await?;
                    }
                }
                Role::Parent => {
                    if let Some(learner) = &first_learner {
                        crate::activation::store::link_parent(&mut tx, id, learner).await?;
                    }
                }
                Role::PlatformAdmin => {}
            }
        }
        audit::insert(
            &mut *tx,
            &AuditEntry {
                at: ctx.now,
                actor_id: None,
                api_token: None,
                target_id: None,
                school_id: Some(school_id.as_str()),
                action: action::DEMO_SEED,
                outcome: "success",
                client_addr: None,
                detail: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The demo's learner who has not used her access code yet, so that **Show
/// access codes** has one to show: (first name, last name).
pub const DEMO_PENDING_LEARNER: (&str, &str) = ("Dev", "Patel");

/// A second class, taught by the lead teacher only, so the demo teacher can
/// see what lies outside their classes (and the lead the whole school).
pub const DEMO_SECOND_CLASS: &str = "Class 5C";

/// The learners of [`DEMO_SECOND_CLASS`]: first name, last name, username.
/// Their passwords are generated and kept, for the lead teacher to show.
pub const DEMO_SECOND_CLASS_LEARNERS: &[(&str, &str, &str)] = &[
    ("Eli", "Evans", "eli.evans"),
    ("Finn", "Foster", "finn.foster"),
];

impl Keyward {
    /// What `keyward demo` adds after [`Keyward::seed_demo`] (tests keep the
    /// plain demo): [`DEMO_PENDING_LEARNER`] in the demo class, and
    /// [`DEMO_SECOND_CLASS`] with its learners. Each is added only when
    /// missing.
    pub async fn seed_demo_extras(&self, ctx: &Ctx<'_>) -> Result<(), DemoError> {
        self.seed_demo_pending_learner(ctx).await?;
        self.seed_demo_second_class(ctx).await
    }

    async fn seed_demo_second_class(&self, ctx: &Ctx<'_>) -> Result<(), DemoError> {
        let failed =
            |err: &dyn std::fmt::Display| Internal::new(format!("demo {DEMO_SECOND_CLASS}: {err}"));
        let Some((school, _)) = store::demo_school_and_class(&self.db).await? else {
            return Ok(());
        };
        let mut conn = self.db.pool().acquire().await?;
        if store::find_class_by_name(&mut conn, &school, DEMO_SECOND_CLASS)
            .await?
            .is_some()
        {
            return Ok(());
        }
        drop(conn);
        let Some(lead) = self
            .find_account_by_username(&Username::parse("demo.lead").map_err(|e| failed(&e))?)
            .await?
        else {
            return Ok(());
        };
        let lead = self.actor_of(&lead).await?;
        let class = self
            .create_class(
                ctx,
                &lead,
                &school,
                DEMO_SECOND_CLASS,
                std::slice::from_ref(&lead.user_id),
            )
            .await
            .map_err(|e| failed(&e))?;
        let code = class
            .class_code
            .ok_or_else(|| failed(&"the new class has no class code"))?;
        for (first_name, last_name, username) in DEMO_SECOND_CLASS_LEARNERS {
            // They join with the class code, as learners do, and then the
            // lead teacher gives them a password (so it can be shown again).
            let joined = self
                .join_class_as_new_learner(
                    ctx,
                    &crate::activation::JoinInput {
                        class_code: code.clone().into(),
                        first_name: (*first_name).to_owned(),
                        last_name: (*last_name).to_owned(),
                        username: (*username).to_owned(),
                        password: "JoinedOnce42".into(),
                        confirm_password: None,
                    },
                )
                .await
                .map_err(|e| failed(&e))?;
            self.reset_learner_password(
                ctx,
                &lead,
                &joined.id,
                crate::classroom::passwords::NewPasswordChoice::Generate,
            )
            .await
            .map_err(|e| failed(&e))?;
        }
        Ok(())
    }

    async fn seed_demo_pending_learner(&self, ctx: &Ctx<'_>) -> Result<(), DemoError> {
        let Some((school, class)) = store::demo_school_and_class(&self.db).await? else {
            return Ok(());
        };
        let (first_name, last_name) = DEMO_PENDING_LEARNER;
        if store::find_learner_by_name(&self.db, &school, first_name, last_name)
            .await?
            .is_some()
        {
            return Ok(());
        }
        self.create_user(
            ctx,
            &Keyward::operator_actor(),
            &crate::admin::NewPendingUser {
                first_name: first_name.to_owned(),
                last_name: last_name.to_owned(),
                role: Role::Learner,
                school_id: Some(school),
                class_ids: vec![class],
                email: None,
            },
        )
        .await
        .map_err(|err| Internal::new(format!("demo pending learner: {err}")))?;
        Ok(())
    }

    /// The switched-on class code of the demo class, for the banner of
    /// `keyward demo` (so a newcomer can try **Join a class**).
    pub async fn demo_class_code(&self) -> Result<Option<String>, Internal> {
        store::demo_class_code(&self.db, DEMO_SCHOOL_NAME, DEMO_CLASS_NAME).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{MONDAY_MORNING, ctx_at, demo_passwords, keyward};
    use crate::types::random::SeededRandom;

    #[tokio::test]
    async fn seeding_twice_keeps_one_set_of_people_and_the_newest_passwords() {
        let (kw, _db) = keyward().await;
        let rng = SeededRandom::new(11);
        let ctx = ctx_at(MONDAY_MORNING, &rng);
        kw.seed_demo(&ctx, &demo_passwords("DemoOnePass42"))
            .await
            .unwrap();
        kw.seed_demo(&ctx, &demo_passwords("DemoTwoPass42"))
            .await
            .unwrap();
        let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(kw.db().pool())
            .await
            .unwrap();
        assert_eq!(users, DEMO_PEOPLE.len() as i64);
        let schools: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM schools")
            .fetch_one(kw.db().pool())
            .await
            .unwrap();
        assert_eq!(schools, 1);
        for person in DEMO_PEOPLE {
            assert!(
                kw.sign_in(&ctx, person.username, "DemoTwoPass42".into())
                    .await
                    .is_ok(),
                "{}",
                person.username
            );
        }
        assert!(
            kw.sign_in(&ctx, "demo.amy", "DemoOnePass42".into())
                .await
                .is_err()
        );
        let code = kw.demo_class_code().await.unwrap().unwrap();
        assert_eq!(code.len(), crate::schools::CLASS_CODE_LEN);
    }

    #[tokio::test]
    async fn the_demo_keeps_staff_given_passwords_and_one_pending_learner_with_a_code() {
        let (kw, _db) = keyward().await;
        let rng = SeededRandom::new(12);
        let ctx = ctx_at(MONDAY_MORNING, &rng);
        kw.seed_demo(&ctx, &demo_passwords("DemoPass42"))
            .await
            .unwrap();
        for _ in 0..2 {
            kw.seed_demo_extras(&ctx).await.unwrap();
        }
        let lead = crate::testing::actor_named(&kw, "demo.lead").await;
        let class = crate::testing::demo_class(&kw).await;
        let sheet = kw
            .class_credentials(
                &ctx,
                &lead,
                &class,
                crate::classroom::credentials::CredentialsUse::Show,
            )
            .await
            .unwrap();
        let states: Vec<(String, &str, bool)> = sheet
            .rows
            .iter()
            .map(|row| {
                (
                    row.first_name.clone(),
                    row.password_state.as_str(),
                    row.access_code.is_some(),
                )
            })
            .collect();
        assert_eq!(
            states,
            [
                ("Amy".to_owned(), "retrievable", false),
                ("Ben".to_owned(), "retrievable", false),
                ("Cara".to_owned(), "private", false),
                ("Dev".to_owned(), "pending", true),
            ]
        );

        // Class 5C is the lead teacher's alone: the teacher cannot reach it.
        let school = lead.school_id.clone().unwrap();
        let whole = kw
            .school_credentials(
                &ctx,
                &lead,
                &school,
                crate::classroom::credentials::CredentialsUse::Show,
            )
            .await
            .unwrap();
        let second: Vec<_> = whole
            .rows
            .iter()
            .filter(|row| row.class_name == DEMO_SECOND_CLASS)
            .collect();
        assert_eq!(second.len(), DEMO_SECOND_CLASS_LEARNERS.len());
        assert!(second.iter().all(|row| row.password.is_some()));
        let teacher = crate::testing::actor_named(&kw, "demo.teacher").await;
        let eli = crate::testing::account_named(&kw, "eli.evans").await;
        let err = kw
            .reveal_learner_password(&ctx, &teacher, &eli.id)
            .await
            .unwrap_err();
        assert_eq!(crate::error::CodedError::code(&err), "forbidden");
        let shown = kw
            .reveal_learner_password(&ctx, &lead, &eli.id)
            .await
            .unwrap();
        assert!(
            kw.sign_in(&ctx, "eli.evans", shown.password.expose().into())
                .await
                .is_ok()
        );
    }
}
