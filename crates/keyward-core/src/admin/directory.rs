//! Finding people: the users list and search of R-ADM-1 (people with
//! `users.view`, in their scope), a class's learners for its teachers (the
//! class database, R-TCH-1), and every learner of a school for the lead
//! teacher (the student database, R-TCH-2).

use super::store;
use crate::Ctx;
use crate::Keyward;
use crate::accounts::Account;
use crate::authz::{Action, Actor, Denied, Target};
use crate::error::{Code, Internal};
use crate::types::{ClassId, SchoolId};

/// At most this many people in one answer.
pub const MAX_RESULTS: i64 = 200;

/// A search of the users list.
#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    /// Part of a username, first or last name (case-insensitive); empty lists everyone.
    pub text: String,
    /// Which school; platform admins may pick any, others get their own.
    pub school: Option<SchoolId>,
}

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl crate::error::CodedError for DirectoryError {
    fn code(&self) -> Code {
        match self {
            DirectoryError::Denied(denied) => denied.code(),
            DirectoryError::Internal(internal) => internal.code(),
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            DirectoryError::Denied(denied) => denied.retry_after_secs(),
            DirectoryError::Internal(internal) => internal.retry_after_secs(),
        }
    }
}

/// Escapes `%`, `_` and `\` for a LIKE pattern, and lowercases.
fn like_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.trim().to_lowercase().chars().take(64) {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

impl Keyward {
    /// The users list (R-ADM-1): people in the actor's scope matching the
    /// query, by last name.
    pub async fn find_users(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        query: &UserQuery,
    ) -> Result<Vec<Account>, DirectoryError> {
        let school = match &query.school {
            school if actor.platform_wide() => school.clone(),
            Some(school) => Some(school.clone()),
            None => Some(actor.scope_school().cloned().ok_or(Denied::Forbidden)?),
        };
        match &school {
            Some(school) => {
                self.authorize_audited(ctx, actor, Action::ViewUser, Target::School(school))
                    .await?
            }
            None => {
                self.authorize_audited(ctx, actor, Action::ViewUser, Target::Platform)
                    .await?
            }
        }
        Ok(store::find_users(
            &self.db,
            school.as_ref(),
            &like_pattern(&query.text),
            MAX_RESULTS,
        )
        .await?)
    }

    /// The learners of one class, for its teachers and the lead teacher.
    pub async fn class_learners(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        class: &ClassId,
    ) -> Result<Vec<Account>, DirectoryError> {
        let school = store::school_of_class(&self.db, class)
            .await?
            .ok_or(Denied::Hidden)?;
        self.authorize_audited(
            ctx,
            actor,
            Action::ViewLearner,
            Target::Class {
                school: &school,
                class,
            },
        )
        .await?;
        Ok(store::learners_of_class(&self.db, class).await?)
    }

    /// Every learner of a school (the student database), with the names of
    /// their classes, for the lead teacher.
    pub async fn school_learners(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        school: &SchoolId,
    ) -> Result<Vec<(Account, Vec<String>)>, DirectoryError> {
        self.authorize_audited(ctx, actor, Action::ViewLearner, Target::School(school))
            .await?;
        Ok(store::learners_of_school(&self.db, school, MAX_RESULTS * 50).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_cannot_widen_the_pattern() {
        assert_eq!(like_pattern("Amy"), "%amy%");
        assert_eq!(like_pattern("100%_"), "%100\\%\\_%");
        assert_eq!(like_pattern(""), "%%");
    }
}
