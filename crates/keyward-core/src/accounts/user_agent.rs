//! The browser and system a session was opened from, read from its
//! `User-Agent` for the list of sessions ("Chrome on Linux").
//!
//! A dozen ordered token rules rather than a crate: the maintained parser
//! (`ua-parser`) needs uap-core's 200 KB regex list vendored, a YAML or JSON
//! loader and about a thousand regexes compiled at start, and the light one
//! (`woothee`) has had no release or data update since 2021. The list needs
//! only a browser family and a system, which browsers keep stable (and have
//! frozen further since User-Agent reduction); an agent no rule knows is
//! shown as unknown, never guessed.

/// What a `User-Agent` tells of a device, as far as the rules know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Device {
    /// The browser family, for example `Chrome`.
    pub browser: Option<&'static str>,
    /// The operating system, for example `Linux`.
    pub system: Option<&'static str>,
}

impl Device {
    /// Reads a `User-Agent` header (none: nothing known).
    pub fn of(user_agent: Option<&str>) -> Device {
        let agent = user_agent.unwrap_or("");
        Device {
            browser: first_match(agent, BROWSERS),
            system: first_match(agent, SYSTEMS),
        }
    }

    /// For people: "Chrome on Linux", "Firefox", "a browser on Windows" or
    /// "Unknown device".
    pub fn label(&self) -> String {
        match (self.browser, self.system) {
            (Some(browser), Some(system)) => format!("{browser} on {system}"),
            (Some(browser), None) => browser.to_owned(),
            (None, Some(system)) => format!("A browser on {system}"),
            (None, None) => "Unknown device".to_owned(),
        }
    }
}

/// The first rule with a token found in `agent` names it. Tokens are
/// compared as written (browsers send them with this case).
fn first_match(agent: &str, rules: &[(&'static str, &[&str])]) -> Option<&'static str> {
    rules
        .iter()
        .find(|(_, tokens)| tokens.iter().any(|token| agent.contains(token)))
        .map(|(name, _)| *name)
}

/// Browsers, most specific first: Edge, Opera, Samsung Internet and most
/// others also say `Chrome/`, and every Chromium and WebKit browser also
/// says `Safari/`.
const BROWSERS: &[(&str, &[&str])] = &[
    ("Edge", &["Edg/", "EdgA/", "EdgiOS/", "Edge/"]),
    ("Opera", &["OPR/", "OPX/", "Opera"]),
    ("Samsung Internet", &["SamsungBrowser/"]),
    ("Vivaldi", &["Vivaldi/"]),
    ("Yandex Browser", &["YaBrowser/"]),
    ("Firefox", &["Firefox/", "FxiOS/"]),
    ("Chrome", &["Chrome/", "CriOS/", "Chromium/"]),
    ("Internet Explorer", &["Trident/", "MSIE "]),
    ("Safari", &["Safari/"]),
    ("curl", &["curl/"]),
];

/// Systems, most specific first: Android says `Linux`, iOS says `Mac OS X`,
/// ChromeOS says `X11`.
const SYSTEMS: &[(&str, &[&str])] = &[
    ("Android", &["Android"]),
    ("iOS", &["iPhone", "iPad", "iPod"]),
    ("ChromeOS", &["CrOS"]),
    ("Windows", &["Windows"]),
    ("macOS", &["Macintosh", "Mac OS X"]),
    ("Linux", &["Linux", "X11"]),
];

#[cfg(test)]
mod tests {
    use super::Device;

    fn label(agent: &str) -> String {
        Device::of(Some(agent)).label()
    }

    #[test]
    fn the_common_browsers_are_named_with_their_system() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                "Chrome on Linux",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
                "Edge on Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
                "Safari on macOS",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
                "Safari on iOS",
            ),
            (
                "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.0.0 Mobile/15E148 Safari/604.1",
                "Chrome on iOS",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
                "Firefox on Windows",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
                "Samsung Internet on Android",
            ),
            (
                "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
                "Chrome on Android",
            ),
            (
                "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                "Chrome on ChromeOS",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/114.0.0.0",
                "Opera on Windows",
            ),
            ("curl/8.5.0", "curl"),
        ];
        for (agent, expected) in cases {
            assert_eq!(label(agent), expected, "{agent}");
        }
    }

    #[test]
    fn what_no_rule_knows_is_unknown_never_guessed() {
        assert_eq!(Device::of(None).label(), "Unknown device");
        assert_eq!(label(""), "Unknown device");
        assert_eq!(label("keyward-test-client"), "Unknown device");
        assert_eq!(label("SomeBot (Windows)"), "A browser on Windows");
    }
}
