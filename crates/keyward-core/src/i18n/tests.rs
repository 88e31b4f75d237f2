use super::*;

#[test]
fn accept_language_picks_the_highest_quality_supported_language() {
    let pick = Locale::from_accept_language;
    assert_eq!(pick("es-ES,es;q=0.9,en;q=0.8"), Locale::Es);
    assert_eq!(pick("en-GB,en;q=0.9,es;q=0.8"), Locale::En);
    assert_eq!(pick("de-DE,de;q=0.9,es;q=0.5,en;q=0.4"), Locale::Es);
    assert_eq!(
        pick("en;q=0.4, es;q=0.7"),
        Locale::Es,
        "order is by quality"
    );
    assert_eq!(
        pick("es;q=0.5, en;q=0.5"),
        Locale::Es,
        "equal: the browser's order"
    );
    assert_eq!(pick("ES-mx"), Locale::Es, "case does not matter");
    assert_eq!(pick("es-419;q=1.0"), Locale::Es);
}

#[test]
fn accept_language_falls_back_to_english() {
    let pick = Locale::from_accept_language;
    assert_eq!(pick(""), Locale::En);
    assert_eq!(
        pick("de-DE, fr;q=0.8, *;q=0.1"),
        Locale::En,
        "unknown languages"
    );
    assert_eq!(pick("es;q=0"), Locale::En, "q=0 refuses a language");
    assert_eq!(pick("es;q=0, en;q=0"), Locale::En);
    assert_eq!(
        pick("es;q=abc"),
        Locale::En,
        "a malformed q drops the range"
    );
    assert_eq!(pick("es;q=1.5"), Locale::En, "q above 1 is malformed");
    assert_eq!(pick(";;;,,,"), Locale::En);
    assert_eq!(pick("español"), Locale::En);
}

#[test]
fn a_locale_parses_only_from_its_own_code() {
    assert_eq!(Locale::parse("en"), Some(Locale::En));
    assert_eq!(Locale::parse("es"), Some(Locale::Es));
    for other in ["", "EN", "es-ES", "de", "english", " es"] {
        assert_eq!(Locale::parse(other), None, "{other:?}");
    }
    for locale in Locale::ALL {
        assert_eq!(Locale::parse(locale.code()), Some(locale));
    }
}

#[test]
fn every_language_loads_and_names_itself() {
    assert_eq!(Locale::En.own_name(), "English");
    assert_eq!(Locale::Es.own_name(), "Español");
    for locale in Locale::ALL {
        assert!(has(locale, "language-own-name"), "{locale}");
    }
}

#[test]
fn messages_follow_the_current_language_and_fall_back_to_english() {
    assert_eq!(current(), Locale::En, "outside a scope");
    let spanish = sync_scope(Locale::Es, || {
        assert_eq!(current(), Locale::Es);
        text("language-own-name")
    });
    assert_eq!(spanish, "Español");
    assert_eq!(text("language-own-name"), "English");
    // A message English has and Spanish lacks is English in Spanish.
    assert!(has(Locale::En, "test-english-only"));
    assert!(!has(Locale::Es, "test-english-only"));
    assert_eq!(
        sync_scope(Locale::Es, || text("test-english-only")),
        "Only in English"
    );
    assert_eq!(text("no-such-message-anywhere"), "no-such-message-anywhere");
}

#[test]
fn arguments_and_plurals_reach_the_message() {
    let minutes = |n: u64| Message::new("duration-minutes").with("minutes", n);
    assert_eq!(minutes(1).in_locale(Locale::En), "1 minute");
    assert_eq!(minutes(30).in_locale(Locale::En), "30 minutes");
    assert_eq!(minutes(1).in_locale(Locale::Es), "1 minuto");
    assert_eq!(minutes(30).in_locale(Locale::Es), "30 minutos");
    let ttl = String::from("2 hours");
    let sent = Message::new("test-argument").with("value", &ttl);
    assert_eq!(
        sent.in_locale(Locale::En),
        "Value: 2 hours",
        "no isolation marks"
    );
}

#[tokio::test]
async fn choose_replaces_the_language_for_the_rest_of_the_scope() {
    let seen = scope(Locale::En, async {
        let before = current();
        choose(Locale::Es);
        tokio::task::yield_now().await;
        (before, current())
    })
    .await;
    assert_eq!(seen, (Locale::En, Locale::Es));
    choose(Locale::Es);
    assert_eq!(current(), Locale::En, "outside a scope choose does nothing");
}

#[test]
fn html_escapes_the_text_and_marks_only_the_marked_arguments() {
    let html = Message::new("test-argument")
        .with_strong("value", "<b>Tom & Jerry</b>")
        .html();
    assert_eq!(
        html.to_string(),
        "Value: <strong>&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;</strong>"
    );
    let plain = Message::new("test-argument").with("value", "a<b").html();
    assert_eq!(plain.to_string(), "Value: a&lt;b");
    let code = Message::new("test-argument")
        .with_code("value", 404u16)
        .html();
    assert_eq!(code.to_string(), "Value: <code>404</code>");
    let text = Message::new("test-argument").with_strong("value", "<b>");
    assert_eq!(
        text.to_string(),
        "Value: <b>",
        "plain text is not marked up"
    );
}

#[test]
fn durations_read_as_people_say_them() {
    let words = |secs: u64| duration_words(std::time::Duration::from_secs(secs));
    assert_eq!(words(60), "1 minute");
    assert_eq!(words(30 * 60), "30 minutes");
    assert_eq!(words(3600), "1 hour");
    assert_eq!(words(2 * 3600), "2 hours");
    assert_eq!(words(2 * 3600 + 30 * 60), "2 hours 30 minutes");
    assert_eq!(words(1), "1 minute", "never zero");
    assert_eq!(
        sync_scope(Locale::Es, || words(3600 + 60)),
        "1 hora 1 minuto"
    );
}
