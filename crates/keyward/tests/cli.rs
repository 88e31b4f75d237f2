//! The `keyward` binary run as an operator runs it (R-CLI-1, R-CFG-1): a
//! temporary data folder, settings through `KEYWARD_<SECTION>__<KEY>`, cheap
//! hashing so the tests are quick. Tests that touch the database use SQLite,
//! or a fresh PostgreSQL database (`kwcli_<hex>`, dropped afterwards) when
//! `KEYWARD_TEST_POSTGRES_URL` names a server.

use std::collections::BTreeMap;

use std::net::TcpListener;
use std::path::Path;
use std::process::Output;

mod support;

use support::*;

// ---------------------------------------------------------------- check-config

const EVERY_KEY: &[&str] = &[
    "server.bind",
    "server.public_url",
    "server.data_dir",
    "server.max_body_bytes",
    "server.request_timeout",
    "server.shutdown_grace",
    "server.trusted_proxies",
    "server.metrics_bind",
    "database.url",
    "database.max_connections",
    "database.acquire_timeout",
    "hashing.memory_kib",
    "hashing.iterations",
    "hashing.parallelism",
    "hashing.max_concurrent",
    "hashing.queue_timeout",
    "hashing.allow_weak",
    "session.idle_timeout",
    "session.absolute_timeout",
    "throttle.account_free_failures",
    "throttle.account_max_delay",
    "throttle.address_free_failures",
    "throttle.address_max_delay",
    "throttle.forget_after",
];

fn check_config(site: &Site, vars: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = site.bare_command();
    command.args(args).arg("check-config");
    for (key, value) in vars {
        command.env(key, value);
    }
    run_with_stdin(&mut command, "")
}

#[test]
fn check_config_prints_every_setting_with_its_default() {
    let site = Site::without_database();
    let output = check_config(&site, &[], &[]);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(output.stderr.is_empty(), "{}", text(&output.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    for key in EVERY_KEY {
        assert!(
            lines.iter().any(|l| l.starts_with(&format!("{key} = "))),
            "{key} missing from:\n{stdout}"
        );
    }
    for line in [
        "server.bind = 127.0.0.1:8080",
        "server.public_url = http://127.0.0.1:8080/",
        "server.data_dir = ./keyward-data",
        "database.url = sqlite://./keyward-data/keyward.db",
        "hashing.memory_kib = 19456",
        "hashing.iterations = 2",
        "hashing.parallelism = 1",
        "hashing.allow_weak = false",
        "server.trusted_proxies = ",
        "server.metrics_bind = off",
    ] {
        assert!(lines.contains(&line), "{line:?} missing from:\n{stdout}");
    }
    // check-config only reads; it creates no data folder.
    assert!(!site.root.path().join("keyward-data").exists());
}

#[test]
fn check_config_prints_the_mail_and_recovery_settings_with_secrets_masked() {
    let site = Site::without_database();
    let output = check_config(
        &site,
        &[
            ("KEYWARD_MAIL__SMTP__USERNAME", "kw"),
            ("KEYWARD_MAIL__SMTP__PASSWORD", "hunter2"),
        ],
        &[],
    );
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(!stdout.contains("hunter2"), "{stdout}");
    assert!(stdout.contains("mail.smtp.password = "), "{stdout}");
    // The keys and defaults of SPEC section 10.
    for line in [
        "mail.transport = file",
        "mail.from = keyward <noreply@localhost>",
        "mail.smtp.host = 127.0.0.1",
        "mail.smtp.port = 25",
        "mail.smtp.security = none",
        "mail.smtp.username = kw",
        "recovery.identify_by = username",
        "recovery.link_ttl = 1h",
        "recovery.confirm_username = false",
        "recovery.require_prior_sign_in = true",
    ] {
        assert!(
            stdout.lines().any(|l| l == line),
            "{line:?} missing from:\n{stdout}"
        );
    }
}

#[test]
fn check_config_overlays_the_environment_on_the_file() {
    let site = Site::without_database();
    let file = site.root.path().join("keyward.toml");
    std::fs::write(
        &file,
        "[server]\nbind = \"127.0.0.1:9000\"\n[hashing]\niterations = 3\nmemory_kib = 4096\nallow_weak = true\n",
    )
    .unwrap();
    let output = check_config(
        &site,
        &[("KEYWARD_HASHING__ITERATIONS", "4")],
        &["--config", file.to_str().unwrap()],
    );
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(
        stdout.contains("server.bind = 127.0.0.1:9000\n"),
        "{stdout}"
    );
    assert!(stdout.contains("hashing.iterations = 4\n"), "{stdout}");
    assert!(stdout.contains("hashing.memory_kib = 4096\n"), "{stdout}");

    // The file can also be named by KEYWARD_CONFIG, and an empty one means none.
    let output = check_config(&site, &[("KEYWARD_CONFIG", file.to_str().unwrap())], &[]);
    assert!(text(&output.stdout).contains("server.bind = 127.0.0.1:9000\n"));
    let output = check_config(&site, &[("KEYWARD_CONFIG", "")], &[]);
    assert!(output.status.success(), "{output:?}");
    assert!(text(&output.stdout).contains("server.bind = 127.0.0.1:8080\n"));
}

#[test]
fn check_config_masks_the_database_password() {
    let site = Site::without_database();
    let output = check_config(
        &site,
        &[("KEYWARD_DATABASE__URL", "postgres://u:secret@h/db")],
        &[],
    );
    assert!(output.status.success(), "{output:?}");
    let all = text(&output.stdout) + &text(&output.stderr);
    assert!(!all.contains("secret"), "{all}");
    assert!(
        all.contains("database.url = postgres://u:****@h/db"),
        "{all}"
    );
}

#[test]
fn an_unknown_or_invalid_setting_stops_with_one_line_naming_it() {
    let site = Site::without_database();
    let cases: &[(&str, &str, &[&str])] = &[
        ("KEYWARD_SERVER__NOPE", "1", &["nope"]),
        ("KEYWARD_NOPE__X", "1", &["nope"]),
        (
            "KEYWARD_HASHING__ITERATIONS",
            "lots",
            &["hashing.iterations"],
        ),
        ("KEYWARD_HASHING__ITERATIONS", "0", &["hashing.iterations"]),
        ("KEYWARD_DATABASE__URL", "mysql://x", &["database.url"]),
        ("KEYWARD_SERVER__BIND", "nonsense", &["server.bind"]),
        (
            "KEYWARD_SERVER__PUBLIC_URL",
            "ftp://x",
            &["server.public_url"],
        ),
        (
            "KEYWARD_SESSION__IDLE_TIMEOUT",
            "soon",
            &["session.idle_timeout"],
        ),
        (
            "KEYWARD_THROTTLE__ACCOUNT_MAX_DELAY",
            "1s",
            &["throttle.account_max_delay"],
        ),
    ];
    for (key, value, needles) in cases {
        let output = check_config(&site, &[(key, value)], &[]);
        assert_one_line_failure(&output, needles);
        assert!(
            output.stdout.is_empty(),
            "{key}={value} printed settings: {}",
            text(&output.stdout)
        );
    }
}

#[test]
fn trusted_proxies_and_metrics_bind_come_from_the_environment_and_bad_ones_are_named() {
    let site = Site::without_database();
    let output = check_config(
        &site,
        &[
            (
                "KEYWARD_SERVER__TRUSTED_PROXIES",
                "127.0.0.1, 10.0.0.0/8,2001:db8::/32",
            ),
            ("KEYWARD_SERVER__METRICS_BIND", "127.0.0.1:9090"),
        ],
        &[],
    );
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(
        stdout.contains("server.trusted_proxies = 127.0.0.1, 10.0.0.0/8, 2001:db8::/32\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("server.metrics_bind = 127.0.0.1:9090\n"),
        "{stdout}"
    );
    for (key, value) in [
        ("KEYWARD_SERVER__TRUSTED_PROXIES", "127.0.0.1, proxy.local"),
        ("KEYWARD_SERVER__TRUSTED_PROXIES", "10.0.0.0/40"),
    ] {
        let output = check_config(&site, &[(key, value)], &[]);
        assert_one_line_failure(&output, &["server.trusted_proxies", "not an IP address"]);
    }
    let output = check_config(&site, &[("KEYWARD_SERVER__METRICS_BIND", "9090")], &[]);
    assert_one_line_failure(&output, &["server.metrics_bind"]);
    // A TOML list works as well.
    let file = site.root.path().join("proxies.toml");
    std::fs::write(
        &file,
        "[server]\ntrusted_proxies = [\"::1\", \"192.0.2.0/24\"]\n",
    )
    .unwrap();
    let output = check_config(&site, &[], &["--config", file.to_str().unwrap()]);
    assert!(
        text(&output.stdout).contains("server.trusted_proxies = ::1, 192.0.2.0/24\n"),
        "{output:?}"
    );
}

#[test]
fn hashing_below_the_owasp_minimum_stops_start_up_unless_allowed_for_tests() {
    let site = Site::without_database();
    let weak = [
        ("KEYWARD_HASHING__MEMORY_KIB", "256"),
        ("KEYWARD_HASHING__ITERATIONS", "1"),
    ];
    let output = check_config(&site, &weak, &[]);
    assert_one_line_failure(&output, &["hashing.memory_kib", "OWASP", "19456"]);
    let allowed = [weak[0], weak[1], ("KEYWARD_HASHING__ALLOW_WEAK", "true")];
    let output = check_config(&site, &allowed, &[]);
    assert!(output.status.success(), "{output:?}");
    assert!(text(&output.stdout).contains("hashing.allow_weak = true\n"));
}

#[test]
fn the_dev_inbox_is_refused_with_an_https_public_url() {
    let site = Site::without_database();
    let output = check_config(
        &site,
        &[
            ("KEYWARD_MAIL__DEV_INBOX", "true"),
            (
                "KEYWARD_SERVER__PUBLIC_URL",
                "https://accounts.school.example",
            ),
        ],
        &[],
    );
    assert_one_line_failure(&output, &["mail.dev_inbox", "https"]);
}

#[test]
fn a_missing_settings_file_is_one_clear_line() {
    let site = Site::without_database();
    let missing = site.root.path().join("nowhere.toml");
    let output = check_config(&site, &[], &["--config", missing.to_str().unwrap()]);
    assert_one_line_failure(&output, &["nowhere.toml", "does not exist"]);
    // Every command loads the settings first, so each refuses the same way.
    let output = run_with_stdin(
        site.bare_command()
            .args(["--config", missing.to_str().unwrap(), "migrate"]),
        "",
    );
    assert_one_line_failure(&output, &["does not exist"]);
}

#[test]
fn a_bad_settings_file_is_named_on_one_line() {
    let site = Site::without_database();
    let file = site.root.path().join("bad.toml");
    let cases: &[(&str, &[&str])] = &[
        ("[server]\nbnd = \"127.0.0.1:80\"\n", &["bnd"]),
        ("[nonsense]\nx = 1\n", &["nonsense"]),
        (
            "[hashing]\niterations = \"many\"\n",
            &["hashing.iterations"],
        ),
        (
            "[server]\npublic_url = \"not a url\"\n",
            &["server.public_url"],
        ),
        // A syntax error: the parser's multi-line excerpt becomes one line.
        ("[server\nbind = 1\n", &["line 1", "bad.toml"]),
        ("[server]\nbind = \n", &["line 2"]),
    ];
    for (contents, needles) in cases {
        std::fs::write(&file, contents).unwrap();
        let output = check_config(&site, &[], &["--config", file.to_str().unwrap()]);
        assert_one_line_failure(&output, needles);
    }
}

// ---------------------------------------------------------------- migrate

#[test]
fn migrate_brings_the_schema_up_to_date_and_is_idempotent() {
    let site = Site::new();
    for run in 1..=2 {
        let output = site.run(&["migrate"], "");
        assert!(
            output.status.success(),
            "run {run}: {}",
            text(&output.stderr)
        );
        let stdout = text(&output.stdout);
        assert!(
            stdout.contains(&format!("The {} database is up to date", site.backend())),
            "run {run}: {stdout}"
        );
    }
    if site.pg.is_none() {
        assert!(site.data_dir().join("keyward.db").is_file());
    }
}

#[test]
fn an_unusable_database_is_one_line() {
    let site = Site::without_database();
    // The data folder is a file, so nothing can be created in it.
    let blocker = site.root.path().join("data");
    std::fs::write(&blocker, "not a folder").unwrap();
    let output = site.run(&["migrate"], "");
    assert_one_line_failure(&output, &["data"]);

    let output = run_with_stdin(
        site.bare_command()
            .env(
                "KEYWARD_DATABASE__URL",
                "postgres://nobody:topsecret@127.0.0.1:1/keyward",
            )
            .env("KEYWARD_DATABASE__ACQUIRE_TIMEOUT", "1s")
            .arg("migrate"),
        "",
    );
    let stderr = assert_one_line_failure(&output, &["database"]);
    assert!(!stderr.contains("topsecret"), "{stderr}");
}

// ---------------------------------------------------------------- admin create

#[test]
fn admin_create_makes_a_platform_admin_from_standard_input() {
    let site = Site::new();
    let args = [
        "admin",
        "create",
        "--username",
        "head.admin",
        "--email",
        "head@school.example",
    ];
    let output = site.run(&args, &format!("{ADMIN_PASSWORD}\n"));
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("head.admin"), "{stdout}");
    assert!(!stdout.contains(ADMIN_PASSWORD) && !stderr.contains(ADMIN_PASSWORD));

    // The same username again is refused with its code.
    let output = site.run(&args, &format!("{ADMIN_PASSWORD}\n"));
    assert_one_line_failure(&output, &["username_taken"]);

    // The password is stored only as a hash: not in the database files.
    if site.pg.is_none() {
        assert!(site.data_dir().join("keyward.db").is_file());
    }
    let leaks = files_containing(&site.data_dir(), ADMIN_PASSWORD, &[]);
    assert!(leaks.is_empty(), "the password is in {leaks:?}");

    // The admin can sign in with it.
    let mut server = site.spawn(&["serve"], "serve");
    server.wait_until_ready();
    let (status, body) = sign_in(site.port, "head.admin", ADMIN_PASSWORD);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"role\":\"platform_admin\""), "{body}");
    let (status, _) = sign_in(site.port, "head.admin", "Wrong-Harbour-Lantern-47");
    assert_eq!(status, 401);
    assert!(server.terminate().success(), "{:?}", server.output());
}

#[test]
fn admin_create_without_a_password_is_one_clear_line() {
    let site = Site::new();
    for stdin in ["", "\n", "\r\n"] {
        let output = site.run(&["admin", "create", "--username", "head.admin"], stdin);
        assert_one_line_failure(&output, &["password", "standard input"]);
    }
}

#[test]
fn admin_create_refuses_a_weak_password_by_the_policy() {
    let site = Site::new();
    let output = site.run(&["admin", "create", "--username", "head.admin"], "short\n");
    assert_one_line_failure(&output, &["password_policy", "too_short"]);
    // Nothing was created: the name is still free.
    let output = site.run(
        &["admin", "create", "--username", "head.admin"],
        &format!("{ADMIN_PASSWORD}\n"),
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
}

#[test]
fn admin_create_refuses_a_bad_username_or_email() {
    let site = Site::new();
    let password = format!("{ADMIN_PASSWORD}\n");
    let output = site.run(&["admin", "create", "--username", "a b"], &password);
    assert_one_line_failure(&output, &["--username"]);
    let output = site.run(&["admin", "create", "--username", ""], &password);
    assert_one_line_failure(&output, &["--username"]);
    let output = site.run(
        &[
            "admin",
            "create",
            "--username",
            "ok.admin",
            "--email",
            "nope",
        ],
        &password,
    );
    assert_one_line_failure(&output, &["--email"]);
}

// ---------------------------------------------------------------- keys rotate

/// Sealing key material for `KEYWARD_SEALING__KEYS`, on one line.
const INLINE_LOOKUP_KEY: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
const INLINE_SEALING_KEY: &str = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";

#[cfg(unix)]
fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn keys_rotate_adds_a_sealing_key_and_keeps_the_key_file_private() {
    let site = Site::new();
    let key_file = site.data_dir().join("sealing.key");
    let output = site.run(&["keys", "rotate"], "");
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert_eq!(
        stdout.trim(),
        "Sealing key k2 is now current; re-sealed 0 secrets."
    );
    let contents = std::fs::read_to_string(&key_file).unwrap();
    for start in ["lookup ", "key k1 ", "key k2 "] {
        assert_eq!(
            contents.lines().filter(|l| l.starts_with(start)).count(),
            1,
            "{start:?} in {contents}"
        );
    }
    #[cfg(unix)]
    assert_eq!(mode_of(&key_file), 0o600);
    // No key reaches the output.
    let key = contents
        .lines()
        .find(|l| l.starts_with("key k2 "))
        .and_then(|l| l.split_whitespace().nth(2))
        .unwrap()
        .to_owned();
    assert!(!stdout.contains(&key) && !stderr.contains(&key));

    let output = site.run(&["keys", "rotate"], "");
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("Sealing key k3 is now current"));
    #[cfg(unix)]
    assert_eq!(mode_of(&key_file), 0o600);
}

#[test]
fn keys_rotate_with_sealing_keys_from_the_environment_is_one_line() {
    let site = Site::new();
    let keys = format!("lookup {INLINE_LOOKUP_KEY}; key k1 {INLINE_SEALING_KEY}");
    let output = run_with_stdin(
        site.command()
            .env("KEYWARD_SEALING__KEYS", &keys)
            .args(["keys", "rotate"]),
        "",
    );
    let stderr = assert_one_line_failure(
        &output,
        &[
            "sealing.keys",
            "secret store",
            "restart",
            "sealing_keys_inline",
        ],
    );
    assert!(!stderr.contains(INLINE_LOOKUP_KEY), "{stderr}");
    assert!(!stderr.contains(INLINE_SEALING_KEY), "{stderr}");
    assert!(!site.data_dir().join("sealing.key").exists());
}

#[cfg(unix)]
#[test]
fn a_sealing_key_file_others_can_read_stops_keyward_with_one_line() {
    use std::os::unix::fs::PermissionsExt;
    let site = Site::new();
    let output = site.run(&["keys", "rotate"], "");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let key_file = site.data_dir().join("sealing.key");
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let output = site.run(&["keys", "rotate"], "");
    assert_one_line_failure(&output, &["sealing.key", "chmod 600"]);
    let output = site.run(
        &["admin", "create", "--username", "head.admin"],
        &format!("{ADMIN_PASSWORD}\n"),
    );
    assert_one_line_failure(&output, &["chmod 600"]);
}

// ---------------------------------------------------------------- demo

/// The lines of `demo-accounts.txt`: username → (role, password).
fn demo_accounts(data_dir: &Path) -> BTreeMap<String, (String, String)> {
    let path = data_dir.join("demo-accounts.txt");
    let contents = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    contents
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(fields.len(), 3, "not ROLE USERNAME PASSWORD: {line:?}");
            (
                fields[1].to_owned(),
                (fields[0].to_owned(), fields[2].to_owned()),
            )
        })
        .collect()
}

/// Runs `keyward demo` until ready, signs in as everyone, stops it with SIGTERM
/// and checks no password was written anywhere but the accounts file.
fn run_demo(site: &Site, log_name: &str) -> BTreeMap<String, (String, String)> {
    let mut server = site.spawn(&["demo"], log_name);
    server.wait_until_ready();

    let accounts = demo_accounts(&site.data_dir());
    let count = |role: &str| accounts.values().filter(|(r, _)| r == role).count();
    for role in ["platform_admin", "lead_teacher", "teacher", "parent"] {
        assert!(count(role) >= 1, "no {role} in {accounts:?}");
    }
    assert!(
        count("learner") >= 2,
        "fewer than two learners: {accounts:?}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(site.data_dir().join("demo-accounts.txt"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "demo-accounts.txt is readable by others");
    }

    for (username, (role, password)) in &accounts {
        let (status, body) = sign_in(site.port, username, password);
        assert_eq!(status, 200, "{username}: {body}");
        assert!(
            body.contains(&format!("\"username\":\"{username}\"")),
            "{body}"
        );
        assert!(body.contains(&format!("\"role\":\"{role}\"")), "{body}");
    }

    let status = server.terminate();
    let (stdout, stderr) = server.output();
    assert!(status.success(), "demo stopped with {status}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    // Standard output is a file, not a terminal: the banner names the accounts
    // file and everyone's username, and no password.
    assert!(stdout.contains("demo-accounts.txt"), "{stdout}");
    for (username, (_, password)) in &accounts {
        assert!(
            stdout.contains(username.as_str()),
            "{username} not in {stdout}"
        );
        assert!(
            !stdout.contains(password.as_str()) && !stderr.contains(password.as_str()),
            "the password of {username} was printed:\n{stdout}\n{stderr}"
        );
        let leaks = files_containing(&site.data_dir(), password, &["demo-accounts.txt"]);
        assert!(leaks.is_empty(), "{username}'s password is in {leaks:?}");
    }
    if site.pg.is_none() {
        assert!(site.data_dir().join("keyward.db").is_file());
    }
    accounts
}

#[test]
fn demo_serves_signs_everyone_in_and_stops_gracefully_twice() {
    let mut site = Site::new();
    let first = run_demo(&site, "demo1");
    // Again on the same data: the same accounts and passwords, still valid.
    site.port = free_port();
    let second = run_demo(&site, "demo2");
    assert_eq!(first, second);
}

#[test]
fn reset_links_and_codes_never_reach_the_log_or_the_database() {
    let site = Site::new();
    let mut server = site.spawn_with(&["demo"], "demo-mail", &[("RUST_LOG", "debug")]);
    server.wait_until_ready();
    let accounts = demo_accounts(&site.data_dir());
    let (_, password) = &accounts["demo.teacher"];
    assert_eq!(sign_in(site.port, "demo.teacher", password).0, 200);
    let (status, body) = http(
        site.port,
        "POST",
        "/api/v1/recovery",
        Some(r#"{"username":"demo.teacher"}"#),
    )
    .unwrap();
    assert_eq!(status, 202, "{body}");
    let mail = wait_for_mail_in(&[site.data_dir().join("mail")], "Reset");
    let text = mail.text.unwrap_or_default();
    let start = text.find("/recovery/").expect("a reset link") + "/recovery/".len();
    let token: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let code = text
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 8 && l.bytes().all(|b| b.is_ascii_digit()))
        .expect("a code")
        .to_owned();
    assert_eq!(token.len(), 43);
    // Open the link the way a person and a client would.
    assert_eq!(
        http(site.port, "GET", &format!("/recovery/{token}"), None)
            .unwrap()
            .0,
        200
    );
    assert_eq!(
        http(site.port, "GET", &format!("/api/v1/recovery/{token}"), None)
            .unwrap()
            .0,
        200
    );
    assert!(server.terminate().success());
    let (stdout, stderr) = server.output();
    assert!(
        stderr.contains("route=/recovery/{token}"),
        "the debug log names the route"
    );
    for secret in [token.as_str(), code.as_str()] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "{secret} is in the log"
        );
        if site.pg.is_none() {
            for file in ["keyward.db", "keyward.db-wal"] {
                let bytes = std::fs::read(site.data_dir().join(file)).unwrap_or_default();
                let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
                assert!(!found, "{secret} is in {file}");
            }
        }
    }
}

// ---------------------------------------------------------------- serve

#[test]
fn serve_on_an_address_in_use_is_one_line() {
    let mut site = Site::new();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    site.port = taken.local_addr().unwrap().port();
    let output = site.run(&["serve"], "");
    let stderr = text(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Log lines may come first; the error itself is one `keyward:` line.
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("keyward: "))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("cannot listen"), "{stderr}");
    assert!(errors[0].contains(&site.port.to_string()), "{stderr}");
    drop(taken);
}

#[test]
fn serve_answers_health_checks_and_stops_on_sigterm() {
    let site = Site::new();
    let metrics_port = free_port();
    let metrics_bind = format!("127.0.0.1:{metrics_port}");
    let mut server = site.spawn_with(
        &["--log-format", "json", "serve"],
        "serve",
        &[("KEYWARD_SERVER__METRICS_BIND", &metrics_bind)],
    );
    server.wait_until_ready();
    let (status, body) = http(site.port, "GET", "/healthz", None).unwrap();
    assert_eq!(status, 200, "{body}");
    // /metrics only on its own listener.
    let (status, _) = http(site.port, "GET", "/metrics", None).unwrap();
    assert_eq!(status, 404);
    let (status, body) = http(metrics_port, "GET", "/metrics", None).unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("keyward_http_request_duration_seconds"),
        "{body}"
    );
    let (status, _) = sign_in(site.port, "nobody.here", "Some-Password-123");
    assert_eq!(status, 401);
    let status = server.terminate();
    let (_, stderr) = server.output();
    assert!(status.success(), "{stderr}");
    assert!(
        http(metrics_port, "GET", "/metrics", None).is_err(),
        "the metrics listener stopped with the server"
    );
    // The file transport (the default) is warned about: nobody gets the mail.
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("WARN") && l.contains("nobody receives it")),
        "{stderr}"
    );
    // So is the weak hashing these tests use.
    assert!(stderr.contains("hashing.allow_weak"), "{stderr}");
    // --log-format json: every log line is a JSON object.
    assert!(!stderr.trim().is_empty());
    for line in stderr.lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            line.starts_with('{') && line.ends_with('}'),
            "not JSON: {line}"
        );
    }
}

// ---------------------------------------------------------------- import

/// The site's database opened in process, as the binary opens it (same data
/// folder, so the same sealing key), for what no command does: making a
/// school, using a code, counting rows. Runs `f` and closes the database.
fn with_core<T>(
    site: &Site,
    f: impl AsyncFnOnce(&keyward_core::Keyward, &keyward_core::Ctx<'_>) -> T,
) -> T {
    run_core(site_settings(site), 5, f)
}

/// A migrated site with one school; returns its id.
fn site_with_school(site: &Site) -> String {
    let output = site.run(&["migrate"], "");
    assert!(output.status.success(), "{}", text(&output.stderr));
    with_core(site, async |kw, ctx| {
        kw.create_school(ctx, &keyward_core::Keyward::operator_actor(), "Hill Top")
            .await
            .expect("create a school")
            .id
            .to_string()
    })
}

fn count_users(site: &Site) -> i64 {
    with_core(site, async |kw, _| {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users")
            .fetch_one(kw.db().pool())
            .await
            .expect("count users")
    })
}

#[test]
fn import_creates_the_learners_and_writes_their_codes_to_standard_output() {
    let site = Site::new();
    let school = site_with_school(&site);
    let roster = site.root.path().join("class 6.csv");
    std::fs::write(
        &roster,
        "\u{feff}first_name,last_name,class,username\r\n\
         Ada,Lovelace,Class 6,ada.lovelace\r\n\
         \"Smith, Jr.\",Ng,Class 6,\r\n\
         Grace,Hopper,Class 7,\r\n",
    )
    .unwrap();
    let output = site.run(
        &["import", "--school", &school, roster.to_str().unwrap()],
        "",
    );
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let summary: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(summary.len(), 1, "one summary line: {stderr}");
    assert!(
        summary[0].contains("Imported 3 learners into Hill Top")
            && summary[0].contains("Class 6, Class 7"),
        "{stderr}"
    );

    // Standard output is the codes file, and nothing else.
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[0],
        "first_name,last_name,class,access_code,parent_access_code"
    );
    assert_eq!(lines.len(), 4, "{stdout}");
    assert!(
        lines[2].starts_with("\"Smith, Jr.\",Ng,Class 6,"),
        "{stdout}"
    );
    let codes: Vec<(String, String)> = lines[1..]
        .iter()
        .map(|line| {
            let cells: Vec<&str> = line.rsplitn(3, ',').collect();
            (cells[1].to_owned(), cells[0].to_owned())
        })
        .collect();

    // The codes work, and rest only hashed and sealed.
    let (access_code, parent_code) = codes[0].clone();
    for code in [&access_code, &parent_code] {
        let leaks = files_containing(&site.data_dir(), code, &[]);
        assert!(leaks.is_empty(), "{code} is in {leaks:?}");
    }
    let activated = with_core(&site, async |kw, ctx| {
        let input = keyward_core::activation::ActivationInput {
            code: access_code.clone().into(),
            username: "ada.lovelace".into(),
            password: "TigerApple42".into(),
            confirm_password: None,
            email: None,
            first_name: None,
            last_name: None,
        };
        kw.activate(ctx, &input)
            .await
            .map(|a| a.username.to_string())
    });
    assert_eq!(activated.expect("the access code works"), "ada.lovelace");
}

#[test]
fn import_refuses_a_bad_roster_with_one_line_per_problem_and_writes_nothing() {
    let site = Site::new();
    let school = site_with_school(&site);
    let roster = site.root.path().join("bad.csv");
    std::fs::write(
        &roster,
        "first_name,last_name,class\nAda,,Class 6\n=SUM(A1),Turing,Class 6\nGrace,Hopper,Class 7\n",
    )
    .unwrap();
    let users = count_users(&site);
    let output = site.run(
        &["import", "--school", &school, roster.to_str().unwrap()],
        "",
    );
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(!output.status.success(), "{stdout}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stdout.is_empty(), "no codes: {stdout}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 3, "two problems and the verdict: {stderr}");
    assert!(lines.iter().all(|l| l.starts_with("keyward: ")), "{stderr}");
    assert!(lines[0].contains("row 2, last_name") && lines[0].contains("(missing_value)"));
    assert!(lines[1].contains("row 3, first_name") && lines[1].contains("(formula_cell)"));
    assert!(!stderr.contains("SUM(A1)"), "a refused cell is not echoed");
    assert!(lines[2].contains("2 problems") && lines[2].contains("roster_invalid"));
    assert_eq!(count_users(&site), users, "nothing was written");

    // Latin-1 is one problem of the whole file.
    std::fs::write(
        &roster,
        b"first_name,last_name,class\nRen\xe9e,Roux,Class 6\n",
    )
    .unwrap();
    let output = site.run(
        &["import", "--school", &school, roster.to_str().unwrap()],
        "",
    );
    assert!(text(&output.stderr).contains("the file: The file is not UTF-8"));
    assert!(!output.status.success());

    // Wrong school, wrong id, missing file: one line each.
    std::fs::write(
        &roster,
        "first_name,last_name,class\nAda,Lovelace,Class 6\n",
    )
    .unwrap();
    let path = roster.to_str().unwrap();
    let nowhere = "7d0e4a52-1c7e-4c1f-9b5e-2f1d3c4b5a69";
    let output = site.run(&["import", "--school", nowhere, path], "");
    assert_one_line_failure(&output, &["no such school", "not_found"]);
    let output = site.run(&["import", "--school", "hill-top", path], "");
    assert_one_line_failure(&output, &["--school"]);
    let output = site.run(&["import", "--school", &school, "missing.csv"], "");
    assert_one_line_failure(&output, &["cannot read", "missing.csv"]);
    assert_eq!(count_users(&site), users);
}

#[test]
fn the_operator_creates_a_school_and_a_pending_learner_with_codes() {
    let site = Site::new();
    let output = site.run(&["school", "create", "--name", "Hill Top Academy"], "");
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let school = stdout.trim().rsplit(' ').next().unwrap().to_owned();
    assert_eq!(school.len(), 36, "{stdout}");

    let output = site.run(
        &[
            "user",
            "create",
            "--school",
            &school,
            "--role",
            "learner",
            "--first-name",
            "Ola",
            "--last-name",
            "Op",
        ],
        "",
    );
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        stdout.contains("Access code: ") && stdout.contains("Parent access code: "),
        "{stdout}"
    );

    let output = site.run(
        &[
            "user",
            "create",
            "--school",
            &school,
            "--role",
            "wizard",
            "--first-name",
            "A",
            "--last-name",
            "B",
        ],
        "",
    );
    assert_one_line_failure(&output, &["--role"]);
    let output = site.run(
        &[
            "user",
            "create",
            "--school",
            "nope",
            "--role",
            "learner",
            "--first-name",
            "A",
            "--last-name",
            "B",
        ],
        "",
    );
    assert_one_line_failure(&output, &["--school"]);
}

// ---------------------------------------------------------------- export

#[test]
fn export_writes_the_credentials_csv_to_standard_output_or_a_private_file() {
    let site = Site::new();
    let school = site_with_school(&site);
    // A class with a learner waiting for their access code, and a learner in no class.
    let (class, access_code, parent_code, bo_codes) = with_core(&site, async |kw, ctx| {
        let operator = keyward_core::Keyward::operator_actor();
        let school = keyward_core::types::SchoolId::parse(&school).unwrap();
        let class = kw
            .create_class(ctx, &operator, &school, "Class 6", &[])
            .await
            .expect("create a class");
        let mut created = Vec::new();
        for (first, classes) in [("Ada", vec![class.id.clone()]), ("Bo", vec![])] {
            let request = keyward_core::admin::NewPendingUser {
                first_name: first.into(),
                last_name: "Lovelace".into(),
                role: keyward_core::types::Role::Learner,
                school_id: Some(school.clone()),
                class_ids: classes,
                email: None,
            };
            created.push(
                kw.create_user(ctx, &operator, &request)
                    .await
                    .expect("learner"),
            );
        }
        (
            class.id.to_string(),
            created[0].access_code.clone(),
            created[0].parent_access_code.clone().unwrap(),
            format!(
                "{},{}",
                created[1].access_code,
                created[1].parent_access_code.clone().unwrap()
            ),
        )
    });
    let header = "school,class,first_name,last_name,username,password,password_status,access_code,parent_access_code";

    // The whole school to standard output.
    let output = site.run(&["export", "--school", &school], "");
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert_eq!(
        stdout,
        format!(
            "{header}\r\nHill Top,Class 6,Ada,Lovelace,,,pending,{access_code},{parent_code}\r\n\
             Hill Top,,Bo,Lovelace,,,pending,{bo_codes}\r\n"
        )
    );
    let summary: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(summary.len(), 1, "{stderr}");
    assert!(summary[0].contains("Exported 2 learner rows of Hill Top to standard output"));
    assert!(!stderr.contains(&access_code), "no code in the summary");

    // One class to a file only its owner may read, even one that existed.
    let file = site.root.path().join("class-6.csv");
    std::fs::write(&file, "old").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let output = site.run(
        &[
            "export",
            "--school",
            &school,
            "--class",
            &class,
            "--output",
            file.to_str().unwrap(),
        ],
        "",
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(output.stdout.is_empty());
    assert!(text(&output.stderr).contains("Exported 1 learner row of Class 6 of Hill Top"));
    let written = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        written,
        format!(
            "{header}\r\nHill Top,Class 6,Ada,Lovelace,,,pending,{access_code},{parent_code}\r\n"
        )
    );
    #[cfg(unix)]
    assert_eq!(mode_of(&file), 0o600);

    // Each export is audited, without a secret.
    let audited = with_core(&site, async |kw, _| {
        sqlx::query_scalar::<_, String>(
            "SELECT detail FROM audit_log WHERE action = 'credentials.export' ORDER BY id",
        )
        .fetch_all(kw.db().pool())
        .await
        .expect("audit rows")
    });
    assert_eq!(
        audited,
        [
            format!("scope=school:{school}; rows=2"),
            format!("scope=class:{class}; rows=1")
        ]
    );

    // Bad ids, unknown ones and a class of another school: one line each.
    let nowhere = "7d0e4a52-1c7e-4c1f-9b5e-2f1d3c4b5a69";
    let output = site.run(&["export", "--school", "hill-top"], "");
    assert_one_line_failure(&output, &["--school"]);
    let output = site.run(&["export", "--school", &school, "--class", "6"], "");
    assert_one_line_failure(&output, &["--class"]);
    let output = site.run(&["export", "--school", nowhere], "");
    assert_one_line_failure(&output, &["no such school", "not_found"]);
    let output = site.run(&["export", "--school", &school, "--class", nowhere], "");
    assert_one_line_failure(&output, &["no such class", "not_found"]);
    let output = site.run(&["export", "--school", nowhere, "--class", &class], "");
    assert_one_line_failure(&output, &["not a class of school"]);
    assert!(output.stdout.is_empty());
    let output = site.run(
        &[
            "export",
            "--school",
            &school,
            "--output",
            "/nonexistent/dir/x.csv",
        ],
        "",
    );
    assert_one_line_failure(&output, &["cannot write", "/nonexistent/dir/x.csv"]);
    // Nothing was exported, so nothing more was audited.
    let exports = with_core(&site, async |kw, _| {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'credentials.export'",
        )
        .fetch_one(kw.db().pool())
        .await
        .expect("audit rows")
    });
    assert_eq!(exports, 2);
}

#[test]
fn token_create_list_and_revoke_from_the_command_line() {
    let site = Site::new();
    let output = site.run(
        &["admin", "create", "--username", "head.admin"],
        &format!("{ADMIN_PASSWORD}\n"),
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let create = [
        "token",
        "create",
        "--for",
        "head.admin",
        "--name",
        "Nightly sync",
        "--permission",
        "users.view",
        "--permission",
        "audit.view",
        "--expires-in",
        "30d",
    ];
    let output = site.run(&create, "");
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "the secret alone on stdout: {stdout}");
    let secret = lines[0].trim().to_owned();
    assert!(secret.starts_with("kw_") && secret.len() == 46, "{secret}");
    assert!(!stderr.contains(&secret));

    let output = site.run(&["token", "list", "--for", "head.admin"], "");
    let listing = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(listing.contains("Nightly sync") && listing.contains("users.view,audit.view"));
    assert!(!listing.contains(&secret[3..]));
    let row = listing
        .lines()
        .find(|l| l.contains("Nightly sync"))
        .unwrap();
    let id = row.split('\t').next().unwrap().to_owned();
    assert!(row.contains("\tactive\t"), "{row}");

    let output = site.run(&["token", "revoke", &id], "");
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("Revoked"));
    let output = site.run(&["token", "revoke", &id], "");
    assert!(text(&output.stdout).contains("already revoked"));
    let listing = text(&site.run(&["token", "list"], "").stdout);
    assert!(listing.contains("\trevoked\t"), "{listing}");

    // The secret is kept only as its digest.
    let leaks = files_containing(&site.data_dir(), &secret[3..], &[]);
    assert!(leaks.is_empty(), "the secret is in {leaks:?}");

    // Refusals are one line with their code.
    let mut long = create;
    long[11] = "400d";
    assert_one_line_failure(&site.run(&long, ""), &["token_expiry_invalid"]);
    let mut unknown = create;
    unknown[3] = "nobody.here";
    assert_one_line_failure(&site.run(&unknown, ""), &["not_found"]);
    let mut odd = create;
    odd[7] = "users.everything";
    assert_one_line_failure(&site.run(&odd, ""), &["users.everything"]);
    assert_one_line_failure(&site.run(&["token", "revoke", "nope"], ""), &["token id"]);
}
