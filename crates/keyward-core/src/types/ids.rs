//! Identifiers of stored things. They are random UUIDs in text form, so they
//! reveal neither counts nor order, and compare the same on both databases.

use crate::types::random::{Random, RandomError};

macro_rules! id_type {
    ($name:ident) => {
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub fn generate(rng: &dyn Random) -> Result<Self, RandomError> {
                let mut bytes = [0u8; 16];
                rng.fill(&mut bytes)?;
                Ok(Self(
                    uuid::Builder::from_random_bytes(bytes)
                        .into_uuid()
                        .to_string(),
                ))
            }

            /// Accepts only the canonical UUID form, so junk from a URL never reaches SQL.
            pub fn parse(text: &str) -> Option<Self> {
                uuid::Uuid::try_parse(text)
                    .ok()
                    .map(|u| Self(u.hyphenated().to_string()))
            }

            /// For values read back from the database.
            pub(crate) fn from_stored(text: String) -> Self {
                Self(text)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(UserId);
id_type!(SchoolId);
id_type!(ClassId);
id_type!(PasskeyId);
id_type!(SsoProviderId);
