//! The web console: the front end built from `web/` into `assets/`, embedded in the
//! binary and served under `/_trailwatch/console/`. It holds no server logic of its
//! own: its pages call the AWS APIs on this same port, signed in the browser as the
//! signed-in principal, so the pipeline authorizes and records every click.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use rust_embed::Embed;

/// Where the console is served.
pub const PATH: &str = "/_trailwatch/console/";

/// The built front end (`npm run build` in `web/` writes it; it is committed so that a
/// plain `cargo build` needs no Node.js).
#[derive(Embed)]
#[folder = "assets/"]
struct Assets;

/// What a browser may do with the console's pages: only this origin's scripts, styles
/// and API, never framed. Nothing comes from the internet.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The console's routes, to merge into the server's router.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/_trailwatch/console", get(|| async { Redirect::permanent(PATH) }))
        .route(PATH, get(|| async { asset("index.html") }))
        .route("/_trailwatch/console/{*path}", get(|Path(path): Path<String>| async move { asset(&path) }))
}

fn asset(path: &str) -> Response {
    let Some(file) = Assets::get(path) else {
        return (StatusCode::NOT_FOUND, "no such console page").into_response();
    };
    let mut response = file.data.into_owned().into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(file.metadata.mimetype()).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    // Built files carry their content hash in their names; index.html names the current ones.
    let caching = if path == "index.html" { "no-cache" } else { "public, max-age=31536000, immutable" };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(caching));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_front_end_is_embedded() {
        let index = Assets::get("index.html").expect("assets/index.html: run `npm run build` in crates/console/web");
        let html = std::str::from_utf8(&index.data).unwrap();
        // Every script and stylesheet the page names is embedded, under the console's path.
        let names: Vec<&str> = html.split("/_trailwatch/console/").skip(1).map(|rest| rest.split('"').next().unwrap()).collect();
        assert!(names.iter().any(|n| n.ends_with(".js")), "index.html names no script: {html}");
        for name in names {
            assert!(Assets::get(name).is_some(), "index.html names {name}, which is not embedded");
        }
    }

    #[test]
    fn pages_are_served_with_their_type_and_policy() {
        let page = asset("index.html");
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(page.headers()[header::CONTENT_TYPE], "text/html");
        assert_eq!(page.headers()[header::CACHE_CONTROL], "no-cache");
        assert!(page.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap().contains("connect-src 'self'"));
        assert_eq!(asset("no-such-file.js").status(), StatusCode::NOT_FOUND);
    }
}
