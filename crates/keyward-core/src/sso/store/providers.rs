//! SQL of `sso_providers`: a school's connected OpenID Connect providers.
