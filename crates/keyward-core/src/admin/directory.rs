//! Finding people: the users list and search of R-ADM-1 (people with
//! `users.view`, in their scope: searched, filtered and paged in SQL), a
//! class's learners for its teachers (the class database, R-TCH-1), and
//! every learner of a school for the lead teacher (the student database,
//! R-TCH-2). Every list is read in a fixed number of queries, never one
//! account at a time.

use super::store;
use crate::Ctx;
use crate::Keyward;
use crate::accounts::{Account, AccountStatus, SsoSignIn};
use crate::authz::{Action, Actor, Denied, Target};
use crate::error::{Code, Internal};
use crate::types::{ClassId, Role, SchoolId};

/// At most this many people in one answer of the student database.
pub const MAX_RESULTS: i64 = 200;
/// People on one page of the users list unless the caller asks otherwise.
pub const DEFAULT_PER_PAGE: u32 = 50;
/// The most people one page of the users list holds.
pub const MAX_PER_PAGE: u32 = 200;
/// The search text is cut to this many characters.
pub const MAX_SEARCH_CHARS: usize = 64;

/// One page of a list: its number (from 1) and its size (1 to
/// [`MAX_PER_PAGE`]). Valid by construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    number: u32,
    size: u32,
}

impl Paging {
    /// `None` when the number is 0 or the size is 0 or above [`MAX_PER_PAGE`].
    pub fn new(number: u32, size: u32) -> Option<Paging> {
        (number >= 1 && (1..=MAX_PER_PAGE).contains(&size)).then_some(Paging { number, size })
    }

    pub fn number(self) -> u32 {
        self.number
    }

    pub fn size(self) -> u32 {
        self.size
    }

    /// How many rows come before this page.
    fn offset(self) -> i64 {
        i64::from(self.number - 1) * i64::from(self.size)
    }
}

impl Default for Paging {
    fn default() -> Self {
        Paging {
            number: 1,
            size: DEFAULT_PER_PAGE,
        }
    }
}

/// A search of the users list; every filter is optional.
#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    /// Part of a name, username or email address (case-insensitive); empty
    /// lists everyone.
    pub text: String,
    /// Which school; platform admins may pick any (or none: every school),
    /// others get their own.
    pub school: Option<SchoolId>,
    pub role: Option<Role>,
    /// Learners enrolled in the class and teachers teaching it.
    pub class: Option<ClassId>,
    pub status: Option<AccountStatus>,
    /// `Some(true)`: two-step verification on (an authenticator app or a
    /// passkey); `Some(false)`: neither.
    pub mfa: Option<bool>,
    pub paging: Paging,
}

/// One person of the users list.
#[derive(Debug, Clone)]
pub struct ListedUser {
    pub account: Account,
    /// An authenticator app or at least one passkey.
    pub mfa_on: bool,
    /// The provider they sign in with, when a link names them (with or
    /// without a keyward password).
    pub sso: Option<SsoSignIn>,
}

/// A learner of the class database or the student database.
#[derive(Debug, Clone)]
pub struct Learner {
    pub account: Account,
    /// The provider they sign in with, when a link names them.
    pub sso: Option<SsoSignIn>,
    /// They sign in only with it (active, no keyward password): their
    /// teachers see "Signs in with <provider>" instead of the password
    /// buttons.
    pub sso_only: bool,
}

/// One page of the users list, with how many match in all.
#[derive(Debug, Clone)]
pub struct UserPage {
    pub users: Vec<ListedUser>,
    pub total: u64,
    pub paging: Paging,
}

impl UserPage {
    /// How many pages the matches fill (at least one).
    pub fn page_count(&self) -> u64 {
        self.total.div_ceil(u64::from(self.paging.size())).max(1)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error(transparent)]
    Denied(#[from] Denied),
    /// A filter that cannot be applied; `field` names the parameter.
    #[error("{message}")]
    InvalidFilter {
        field: &'static str,
        message: &'static str,
    },
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl crate::error::CodedError for DirectoryError {
    fn code(&self) -> Code {
        match self {
            DirectoryError::Denied(denied) => denied.code(),
            DirectoryError::InvalidFilter { .. } => Code::InvalidFilter,
            DirectoryError::Internal(internal) => internal.code(),
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            DirectoryError::Denied(denied) => denied.retry_after_secs(),
            DirectoryError::InvalidFilter { .. } => None,
            DirectoryError::Internal(internal) => internal.retry_after_secs(),
        }
    }

    fn details(&self) -> Vec<(&'static str, serde_json::Value)> {
        match self {
            DirectoryError::InvalidFilter { field, .. } => vec![("field", (*field).into())],
            _ => Vec::new(),
        }
    }
}

/// Escapes `%`, `_` and `\` for a LIKE pattern, and lowercases.
fn like_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.trim().to_lowercase().chars().take(MAX_SEARCH_CHARS) {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

const NOT_A_CLASS: DirectoryError = DirectoryError::InvalidFilter {
    field: "class_id",
    message: "That class is not one of the school's classes.",
};

impl Keyward {
    /// The school a users list looks at: a platform admin's choice (none:
    /// every school), everyone else's own. Authorized (`users.view`) there.
    async fn users_list_scope(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        school: Option<&SchoolId>,
    ) -> Result<Option<SchoolId>, DirectoryError> {
        // A platform admin's token for one school looks at that school only.
        let school = match school {
            school if actor.platform_wide() => school.cloned(),
            Some(school) => Some(school.clone()),
            None => Some(actor.scope_school().cloned().ok_or(Denied::Forbidden)?),
        };
        let target = match &school {
            Some(school) => Target::School(school),
            None => Target::Platform,
        };
        self.authorize_audited(ctx, actor, Action::ViewUser, target)
            .await?;
        Ok(school)
    }

    /// The users list (R-ADM-1): one page of the people in the actor's
    /// scope matching the query, by last name, and how many match in all.
    /// A class filter names a class of the school looked at (for a platform
    /// admin looking at every school, the class's own school).
    pub async fn find_users(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        query: &UserQuery,
    ) -> Result<UserPage, DirectoryError> {
        let mut school = query.school.clone();
        if let (Some(class), None, true) = (&query.class, &school, actor.platform_wide()) {
            school = Some(
                store::school_of_class(&self.db, class)
                    .await?
                    .ok_or(NOT_A_CLASS)?,
            );
        }
        let school = self.users_list_scope(ctx, actor, school.as_ref()).await?;
        if let (Some(class), Some(school)) = (&query.class, &school)
            && !store::class_in_school(&self.db, class, school).await?
        {
            return Err(NOT_A_CLASS);
        }
        let text = query.text.trim();
        let filter = store::UserFilter {
            school: school.as_ref(),
            pattern: (!text.is_empty()).then(|| like_pattern(text)),
            role: query.role,
            class: query.class.as_ref(),
            status: query.status,
            mfa: query.mfa,
        };
        let limit = i64::from(query.paging.size());
        let (users, total) =
            store::list_users(&self.db, &filter, limit, query.paging.offset()).await?;
        Ok(UserPage {
            users,
            total: u64::try_from(total).unwrap_or(0),
            paging: query.paging,
        })
    }

    /// The classes the users list can be filtered by: every class of the
    /// school looked at (none when a platform admin looks at every school),
    /// by name, as (id, name).
    pub async fn users_list_classes(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        school: Option<&SchoolId>,
    ) -> Result<Vec<(ClassId, String)>, DirectoryError> {
        match self.users_list_scope(ctx, actor, school).await? {
            Some(school) => Ok(store::class_names_of_school(&self.db, &school).await?),
            None => Ok(Vec::new()),
        }
    }

    /// The learners of one class, for its teachers and the lead teacher.
    pub async fn class_learners(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        class: &ClassId,
    ) -> Result<Vec<Learner>, DirectoryError> {
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
    ) -> Result<Vec<(Learner, Vec<String>)>, DirectoryError> {
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

    #[test]
    fn paging_is_valid_by_construction() {
        assert_eq!(Paging::new(0, 50), None);
        assert_eq!(Paging::new(1, 0), None);
        assert_eq!(Paging::new(1, MAX_PER_PAGE + 1), None);
        let third = Paging::new(3, 50).expect("a valid page");
        assert_eq!(third.offset(), 100);
        assert_eq!(Paging::default().size(), DEFAULT_PER_PAGE);
    }
}
