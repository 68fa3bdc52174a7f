#[ttl_cache(ttl = "5m", identifier = "geo", backend = redis(url = "redis://127.0.0.1/", prefix = "app:"), serializer = json)]
async fn lookup(city: String, #[ttl_cache::ignore] client: &Client) -> Result<Coords, Error> {
    client.locate(&city).await
}
