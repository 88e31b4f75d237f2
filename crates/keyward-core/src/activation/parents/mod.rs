//! Parents and their children (R-CODE-3): a signed-in parent links another
//! child with that child's parent access code, and sees the names and
//! usernames of the children linked to them (on the home page also their
//! classes and teachers, so they know whom to ask).

mod store;

use super::{ActivationError, CodeKind};
use crate::Ctx;
use crate::Keyward;
use crate::accounts::Account;
use crate::audit::{self, AuditEntry, action};
use crate::authz::Actor;
use crate::schools::overview::LearnerClass;
use crate::types::{Role, TypedCode};

/// A child as their parent sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Child {
    pub first_name: String,
    pub last_name: String,
    /// `None` while the child's account waits for its access code.
    pub username: Option<String>,
}

/// A child on their parent's home page: who they are and their classes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildOverview {
    pub child: Child,
    /// The classes the child is in, each with its teachers' names.
    pub classes: Vec<LearnerClass>,
}

impl Keyward {
    /// Links another child to a signed-in parent with the child's parent
    /// access code (a child of the parent's own school).
    pub async fn link_child(
        &self,
        ctx: &Ctx<'_>,
        parent: &Actor,
        typed_code: &TypedCode,
    ) -> Result<Child, ActivationError> {
        if parent.role != Role::Parent {
            return Err(ActivationError::UnknownCode);
        }
        let (row, child) = self.find_code(ctx, typed_code.expose()).await?;
        if row.kind != CodeKind::Parent || child.school_id != parent.school_id {
            return Err(ActivationError::UnknownCode);
        }
        let mut tx = self.db.begin_write().await?;
        super::store::link_parent(&mut tx, &parent.user_id, &child.id).await?;
        audit::insert(
            &mut *tx,
            &AuditEntry {
                at: ctx.now,
                actor_id: Some(parent.user_id.as_str()),
                api_token: None,
                target_id: Some(child.id.as_str()),
                school_id: child.school_id.as_ref().map(|s| s.as_str()),
                action: action::CODE_USE,
                outcome: "success",
                client_addr: ctx.client_addr.as_deref(),
                detail: Some("parent linked a child"),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(child_of(&child))
    }

    /// The children linked to a parent.
    pub async fn children_of(&self, parent: &Actor) -> Result<Vec<Child>, crate::error::Internal> {
        let children = store::children(&self.db, &parent.user_id).await?;
        Ok(children.iter().map(child_of).collect())
    }

    /// The children linked to a parent with their classes and teachers (the
    /// classes of all the children in one read; empty for anyone else).
    pub async fn children_overview(
        &self,
        parent: &Actor,
    ) -> Result<Vec<ChildOverview>, crate::error::Internal> {
        let children = store::children(&self.db, &parent.user_id).await?;
        let mut classes =
            crate::schools::overview::classes_of_children(&self.db, &parent.user_id).await?;
        Ok(children
            .iter()
            .map(|account| ChildOverview {
                child: child_of(account),
                classes: classes.remove(&account.id).unwrap_or_default(),
            })
            .collect())
    }
}

fn child_of(account: &Account) -> Child {
    Child {
        first_name: account.first_name.clone(),
        last_name: account.last_name.clone(),
        username: (account.status != crate::accounts::AccountStatus::Pending)
            .then(|| account.username.to_string()),
    }
}
