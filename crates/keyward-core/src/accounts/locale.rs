//! A person's own choice of language (issue 15): pages in it whenever they
//! are signed in, and the emails sent to them. The choice is a comfort, not
//! a security setting: nothing is audited and no password is asked, like
//! any other preference of one's own account. The web parses the code
//! (`i18n::Locale::parse`); this module only stores what it is given.

use crate::Keyward;
use crate::error::Internal;
use crate::i18n::Locale;

use super::CurrentSession;

impl Keyward {
    /// Sets the signed-in person's language; `None` follows the browser again.
    pub async fn set_own_locale(
        &self,
        session: &CurrentSession,
        locale: Option<Locale>,
    ) -> Result<(), Internal> {
        super::store::set_locale(&self.db, &session.account.id, locale).await
    }
}
