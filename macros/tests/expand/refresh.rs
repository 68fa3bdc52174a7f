#[ttl_cache(ttl = "5m", refresh_after = "4m", stale_if_error = "1h")]
async fn rate(from: String, to: String) -> Result<f64, Error> {
    fetch(&from, &to).await
}
