//! The demo application's pages, exercised over real HTTP on loopback.

use std::net::SocketAddr;

use bytes::Bytes;
use http::{Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use palisade_demo::{DemoApp, start_demo_app};

struct Answer {
    status: StatusCode,
    headers: http::HeaderMap,
    body: String,
}

async fn send(app: &DemoApp, request: Request<Full<Bytes>>) -> Answer {
    let stream = tokio::net::TcpStream::connect(app.addr)
        .await
        .expect("connect");
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .expect("handshake");
    tokio::spawn(connection);
    let response = sender.send_request(request).await.expect("response");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

fn get(path: &str) -> Request<Full<Bytes>> {
    Request::get(path)
        .header(header::HOST, "demo")
        .body(Full::default())
        .expect("request")
}

fn post(path: &str, content_type: &str, body: impl Into<Bytes>) -> Request<Full<Bytes>> {
    Request::post(path)
        .header(header::HOST, "demo")
        .header(header::CONTENT_TYPE, content_type)
        .body(Full::new(body.into()))
        .expect("request")
}

async fn app() -> DemoApp {
    start_demo_app(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("demo app starts")
}

#[tokio::test]
async fn index_links_every_page() {
    let app = app().await;
    assert_ne!(app.addr.port(), 0);
    let answer = send(&app, get("/")).await;
    assert_eq!(answer.status, StatusCode::OK);
    for link in ["/login", "/search?q=", "/api/items", "/upload", "/account"] {
        assert!(
            answer.body.contains(&format!("href=\"{link}")),
            "index lacks {link}"
        );
    }
    assert_eq!(send(&app, get("/nope")).await.status, StatusCode::NOT_FOUND);
    app.shutdown().await;
}

#[tokio::test]
async fn search_echoes_the_query_escaped() {
    let app = app().await;
    let answer = send(&app, get("/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(
        answer
            .body
            .contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        answer.body
    );
    assert!(!answer.body.contains("<script>"));
    let answer = send(&app, get("/search?q=%27+OR+1%3D1--")).await;
    assert!(answer.body.contains("&#x27; OR 1=1--"), "{}", answer.body);
    app.shutdown().await;
}

#[tokio::test]
async fn login_sets_a_session_that_opens_the_account_page() {
    let app = app().await;
    let form = "application/x-www-form-urlencoded";

    let answer = send(&app, get("/account")).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.headers[header::LOCATION], "/login");

    let answer = send(&app, post("/login", form, "username=demo&password=wrong")).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(
        answer.body.contains("<form"),
        "failure page shows the form again"
    );
    assert!(answer.headers.get(header::SET_COOKIE).is_none());

    let answer = send(&app, post("/login", form, "username=demo&password=demo")).await;
    assert_eq!(answer.status, StatusCode::FOUND);
    assert_eq!(answer.headers[header::LOCATION], "/account");
    let cookie = answer.headers[header::SET_COOKIE]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(cookie.starts_with("demo_session="), "{cookie}");
    let pair = cookie.split(';').next().expect("pair").to_owned();

    let request = Request::get("/account")
        .header(header::COOKIE, pair)
        .body(Full::default())
        .expect("request");
    let answer = send(&app, request).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.body.contains("Logged in as"));

    let forged = Request::get("/account")
        .header(header::COOKIE, "demo_session=forged")
        .body(Full::default())
        .expect("request");
    assert_eq!(send(&app, forged).await.status, StatusCode::SEE_OTHER);
    app.shutdown().await;
}

#[tokio::test]
async fn api_lists_and_creates_items() {
    let app = app().await;
    let answer = send(&app, get("/api/items")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.headers[header::CONTENT_TYPE], "application/json");
    let items: serde_json::Value = serde_json::from_str(&answer.body).expect("json");
    assert_eq!(items.as_array().map(Vec::len), Some(2));

    let answer = send(
        &app,
        post("/api/items", "application/json", r#"{"name":"Cap"}"#),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED);
    let created: serde_json::Value = serde_json::from_str(&answer.body).expect("json");
    assert_eq!(created, serde_json::json!({ "id": 3, "name": "Cap" }));

    let answer = send(&app, get("/api/items")).await;
    assert!(answer.body.contains("\"Cap\""));

    let answer = send(&app, post("/api/items", "application/json", "{not json")).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    app.shutdown().await;
}

#[tokio::test]
async fn upload_reports_file_name_and_size() {
    let app = app().await;
    assert!(
        send(&app, get("/upload"))
            .await
            .body
            .contains("multipart/form-data")
    );
    let body = "--b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"notes.txt\"\r\n\
                Content-Type: text/plain\r\n\r\n0123456789\r\n--b0undary--\r\n";
    let answer = send(
        &app,
        post("/upload", "multipart/form-data; boundary=b0undary", body),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(
        answer.body.contains("<strong>notes.txt</strong>: 10 bytes"),
        "{}",
        answer.body
    );

    let answer = send(&app, post("/upload", "text/plain", "x")).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);

    let too_big = vec![b'a'; 1024 * 1024 + 1];
    let answer = send(
        &app,
        post("/upload", "multipart/form-data; boundary=x", too_big),
    )
    .await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    app.shutdown().await;
}

#[tokio::test]
async fn shutdown_stops_accepting() {
    let app = app().await;
    let addr = app.addr;
    app.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
