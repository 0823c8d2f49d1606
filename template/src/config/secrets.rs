//! Secrets: every setting parsed as a [`SecretString`], whichever module declares it.
//! Each can be read from the file its `NAME_FILE` variable names (Docker and Kubernetes
//! secrets), and production refuses one still holding a placeholder.

use std::{
    any::TypeId,
    ffi::{OsStr, OsString},
    path::Path,
};

use clap::ArgMatches;
use secrecy::{ExposeSecret, SecretString};

/// Whether `arg` is a secret: parsed as a [`SecretString`], whichever module declares it.
fn is_secret(arg: &clap::Arg) -> bool {
    arg.get_value_parser().type_id() == TypeId::of::<SecretString>()
}

/// Says in `--help` that a secret can come from a file, and keeps its value out of
/// `--help`: clap shows `[env: NAME=value]` for a variable that is set, and a help page
/// ends up in terminals, CI logs and support tickets.
pub(super) fn describe_secret(arg: clap::Arg) -> clap::Arg {
    match (is_secret(&arg), arg.get_env().and_then(OsStr::to_str)) {
        (true, Some(name)) => {
            let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
            let help = format!("{help} Or set {name}_FILE to a file holding it (Docker and Kubernetes secrets).");
            arg.help(help).hide_env_values(true)
        }
        _ => arg,
    }
}

/// `args` with the value of every secret whose `NAME_FILE` variable is set, read from
/// that file, as if given on the command line (after the program name, before any
/// subcommand). The file's final newline is not part of the secret. Setting `NAME` too
/// is refused: which one wins would be a guess.
pub(super) fn secrets_from_files(
    command: &clap::Command,
    args: Vec<OsString>,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<Vec<OsString>, String> {
    let mut read = Vec::new();
    for arg in command.get_arguments().filter(|arg| is_secret(arg)) {
        let (Some(name), Some(long)) = (arg.get_env().and_then(OsStr::to_str), arg.get_long()) else { continue };
        let file_variable = format!("{name}_FILE");
        let Some(path) = env(&file_variable) else { continue };
        let flag = format!("--{long}");
        let given_as_flag = args.iter().filter_map(|arg| arg.to_str()).any(|arg| {
            arg == flag || arg.strip_prefix(flag.as_str()).is_some_and(|rest| rest.starts_with('='))
        });
        if given_as_flag || env(name).is_some_and(|value| !value.is_empty()) {
            return Err(format!("{name} and {file_variable} are both set; set only one of them"));
        }
        read.push(OsString::from(flag));
        read.push(OsString::from(read_secret(&file_variable, Path::new(&path))?));
    }
    let mut args = args.into_iter();
    Ok(args.next().into_iter().chain(read).chain(args).collect())
}

/// The content of a secret's file without its final newline; the error names the
/// variable and the path, never the content.
fn read_secret(variable: &str, path: &Path) -> Result<String, String> {
    let mut secret = std::fs::read_to_string(path)
        .map_err(|error| format!("{variable}: could not read {}: {error}", path.display()))?;
    if secret.ends_with('\n') {
        secret.pop();
        if secret.ends_with('\r') {
            secret.pop();
        }
    }
    Ok(secret)
}

/// Words that mark a value copied from an example file rather than set for real.
const PLACEHOLDERS: &[&str] = &["change_me", "changeme", "not-for-production", "postgres:postgres@", "password@"];

/// Refuses a secret that still holds a placeholder value, naming its variable; for
/// production, where every secret must be set for real.
pub(super) fn refuse_placeholders(matches: &ArgMatches) -> Result<(), String> {
    for id in matches.ids() {
        let Ok(Some(secret)) = matches.try_get_one::<SecretString>(id.as_str()) else { continue };
        let value = secret.expose_secret().to_ascii_lowercase();
        if PLACEHOLDERS.iter().any(|placeholder| value.contains(placeholder)) {
            let name = id.as_str().to_ascii_uppercase();
            return Err(format!("{name} still holds a placeholder value; set a real secret for APP_ENV=production"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use crate::config::cli::{Cli, parse, parse_with_env};

    /// A file holding `content`, removed when dropped.
    struct SecretFile(std::path::PathBuf);

    impl SecretFile {
        fn holding(content: &str) -> Self {
            static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let number = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let path = std::env::temp_dir().join(format!("secret-{}-{number}", std::process::id()));
            std::fs::write(&path, content).expect("secret file written");
            Self(path)
        }

        fn path(&self) -> &str {
            self.0.to_str().expect("a UTF-8 temporary path")
        }
    }

    impl Drop for SecretFile {
        fn drop(&mut self) {
            std::fs::remove_file(&self.0).ok();
        }
    }

    #[test]
    fn a_secret_is_read_from_the_file_its_file_variable_names() {
        let file = SecretFile::holding("postgres://app:from-file@db/app\n");

        let config = parse_with_env(&[], &[("DATABASE_URL_FILE", file.path())]).expect("the file is read");

        assert_eq!(config.database.database_url.expose_secret(), "postgres://app:from-file@db/app");
    }

    #[test]
    fn only_the_final_newline_of_a_secret_file_is_dropped() {
        let file = SecretFile::holding("postgres://app:two-lines@db/app\r\n\r\n");

        let config = parse_with_env(&[], &[("DATABASE_URL_FILE", file.path())]).expect("the file is read");

        assert_eq!(config.database.database_url.expose_secret(), "postgres://app:two-lines@db/app\r\n");
    }

    #[test]
    fn a_secret_set_both_directly_and_by_file_is_refused_naming_both() {
        let file = SecretFile::holding("postgres://app:from-file@db/app");
        let env = [("DATABASE_URL", "postgres://app:direct@db/app"), ("DATABASE_URL_FILE", file.path())];

        let error = parse_with_env(&[], &env).expect_err("both were accepted");

        assert!(error.contains("DATABASE_URL and DATABASE_URL_FILE are both set"), "error: {error}");
    }

    #[test]
    fn a_secret_given_as_a_flag_and_by_file_is_refused() {
        let file = SecretFile::holding("postgres://app:from-file@db/app");

        let error = parse_with_env(&["--database-url=postgres://app:flag@db/app"], &[("DATABASE_URL_FILE", file.path())])
            .expect_err("both were accepted");

        assert!(error.contains("both set"), "error: {error}");
    }

    #[test]
    fn an_unreadable_secret_file_is_one_line_naming_the_variable_and_the_path() {
        let error = parse_with_env(&[], &[("DATABASE_URL_FILE", "/nonexistent/database_url")]).expect_err("a missing file was accepted");

        let first_line = error.lines().next().unwrap_or_default();
        assert!(first_line.contains("DATABASE_URL_FILE: could not read /nonexistent/database_url"), "error: {error}");
    }

    #[test]
    fn the_help_says_which_settings_can_come_from_a_file() {
        let help = Cli::full_command().render_long_help().to_string();

        assert!(help.contains("DATABASE_URL_FILE"), "help: {help}");
    }

    #[test]
    fn debug_output_redacts_the_database_url() {
        let config = parse(&["--database-url", "postgres://app:hunter2@db/app"]).expect("flags parse");

        let printed = format!("{config:?}");

        assert!(!printed.contains("hunter2"), "the password leaked: {printed}");
    }

    #[test]
    fn production_refuses_a_change_me_secret() {
        let error = parse(&["--app-env", "production", "--database-url", "postgres://app:CHANGE_ME@db/app"])
            .expect_err("a placeholder was accepted");

        assert!(error.contains("DATABASE_URL"), "error: {error}");
    }

    #[test]
    fn development_accepts_the_default_secrets() {
        parse(&[]).expect("the defaults are valid outside production");
    }
}
