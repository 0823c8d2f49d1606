/// A SQLite database of the test's own, in a directory removed afterwards.
pub struct TestDatabase {
    pub url: String,
    _directory: tempfile::TempDir,
}

impl TestDatabase {
    pub async fn create() -> Self {
        let directory = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite:{}/data/app.db", directory.path().display());
        Self { url, _directory: directory }
    }
}
