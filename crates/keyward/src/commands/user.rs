//! `keyward school create` and `keyward user create`: the operator sets up a
//! school and its people from the command line; a user is created pending
//! and the access code (and a learner's parent access code) is printed to
//! hand out.

use keyward_core::admin::NewPendingUser;
use keyward_core::error::CodedError;
use keyward_core::settings::Settings;
use keyward_core::types::Role;
use keyward_core::types::random::OsRandom;
use keyward_core::types::{ClassId, SchoolId, UnixTime};
use keyward_core::{Ctx, Keyward};

use super::{CommandError, failed, open};

/// What the command line asked for.
pub struct Request {
    pub school: String,
    pub role: String,
    pub first_name: String,
    pub last_name: String,
    pub classes: Vec<String>,
    pub email: Option<String>,
}

pub async fn create(settings: Settings, request: Request) -> Result<(), CommandError> {
    let school =
        SchoolId::parse(&request.school).ok_or_else(|| failed("--school: not a school id"))?;
    let role = Role::parse(&request.role)
        .filter(|r| *r != Role::PlatformAdmin)
        .ok_or_else(|| failed("--role: lead_teacher, teacher, learner or parent (platform admins: `keyward admin create`)"))?;
    let class_ids = request
        .classes
        .iter()
        .map(|c| ClassId::parse(c).ok_or_else(|| failed(format!("--class: {c} is not a class id"))))
        .collect::<Result<Vec<_>, _>>()?;
    let kw = open(settings).await?;
    let ctx = Ctx::new(UnixTime::now(), &OsRandom);
    let pending = NewPendingUser {
        first_name: request.first_name,
        last_name: request.last_name,
        role,
        school_id: Some(school),
        class_ids,
        email: request.email,
    };
    let outcome = kw
        .create_user(&ctx, &Keyward::operator_actor(), &pending)
        .await;
    kw.db().close().await;
    let created = outcome.map_err(|e| failed(format!("{e} ({})", e.code())))?;
    println!(
        "Created pending {} {} ({}).",
        role.as_str(),
        pending.first_name.trim(),
        created.id
    );
    println!("Access code: {}", created.access_code);
    if let Some(code) = created.parent_access_code {
        println!("Parent access code: {code}");
    }
    Ok(())
}

pub async fn create_school(settings: Settings, name: &str) -> Result<(), CommandError> {
    let kw = open(settings).await?;
    let ctx = Ctx::new(UnixTime::now(), &OsRandom);
    let outcome = kw
        .create_school(&ctx, &Keyward::operator_actor(), name)
        .await;
    kw.db().close().await;
    let school = outcome.map_err(|e| failed(format!("{e} ({})", e.code())))?;
    println!("Created school {} with id {}", school.name, school.id);
    Ok(())
}
