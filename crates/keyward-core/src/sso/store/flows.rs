//! SQL of `sso_flows`: sign-ins sent to a provider, each claimed once.
