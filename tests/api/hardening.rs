//! Hostile or careless clients: rate limits, slow and oversized requests, bytes
//! that are not what they claim. None may get a 5xx, hang the server or take it
//! down.

use std::num::NonZeroU32;
use std::time::Duration;

use connect_sessions::http::rate_limit::RateLimits;
use connect_sessions::http::settings::ApiConfig;
use connect_sessions::server::ConnectionLimits;
use reqwest::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// Limits small enough to hit in a test: 2 requests per second in test mode, 3 in live.
fn tight_limits() -> ApiConfig {
    ApiConfig {
        rate_limits: Some(RateLimits {
            live_per_second: NonZeroU32::new(3).unwrap(),
            test_per_second: NonZeroU32::new(2).unwrap(),
        }),
        ..ApiConfig::default()
    }
}

/// Opens a raw connection to the app, for requests no HTTP client would send.
async fn raw_connection(app: &TestApp) -> TcpStream {
    let address = app.address.trim_start_matches("http://");
    TcpStream::connect(address).await.unwrap()
}

/// Reads whatever the server sends until it closes the connection, or fails
/// the test if that takes longer than `within`.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> String {
    let mut received = Vec::new();
    tokio::time::timeout(within, stream.read_to_end(&mut received))
        .await
        .expect("the server kept the connection open")
        .ok();
    String::from_utf8_lossy(&received).into_owned()
}

#[tokio::test]
async fn rate_limiting_is_off_by_default() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let mut statuses = Vec::new();
    for _ in 0..40 {
        statuses.push(app.get("/v1/accounts", &app.platform.secret).await.status);
    }

    // Assert
    assert!(statuses.iter().all(|status| *status == 200), "{statuses:?}");
}

#[tokio::test]
async fn over_the_test_mode_limit_a_platform_gets_stripes_429() {
    // Arrange
    let app = spawn_app_with(tight_limits()).await;
    for _ in 0..2 {
        assert_eq!(
            app.get("/v1/accounts", &app.platform.secret).await.status,
            200
        );
    }

    // Act
    let limited = app.get("/v1/accounts", &app.platform.secret).await;

    // Assert
    insta::assert_json_snapshot!(limited.snapshot(), @r#"
    {
      "status": 429,
      "body": {
        "error": {
          "code": "rate_limit",
          "doc_url": "https://stripe.com/docs/error-codes/rate-limit",
          "message": "Testmode request rate limit exceeded, the rate limits in testmode are lower than livemode. You can learn more about rate limits here https://stripe.com/docs/rate-limits.",
          "type": "invalid_request_error"
        }
      }
    }
    "#);
    assert_eq!(limited.header("stripe-rate-limited-reason"), "global-rate");
    assert_eq!(limited.header("stripe-should-retry"), "false");
}

#[tokio::test]
async fn each_platform_and_mode_has_its_own_limit() {
    // Arrange: the platform's test-mode bucket is empty.
    let app = spawn_app_with(tight_limits()).await;
    for _ in 0..3 {
        app.get("/v1/accounts", &app.platform.secret).await;
    }

    // Act
    let other_platform = app.get("/v1/accounts", &app.other_platform.secret).await;
    let live: Vec<u16> = {
        let mut statuses = Vec::new();
        for _ in 0..4 {
            statuses.push(
                app.get("/v1/accounts", &app.platform.live_secret)
                    .await
                    .status,
            );
        }
        statuses
    };

    // Assert
    assert_eq!(other_platform.status, 200);
    assert_eq!(live, [200, 200, 200, 429]);
    let limited = app.get("/v1/accounts", &app.platform.live_secret).await;
    assert_eq!(
        limited.message(),
        "Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits."
    );
}

#[tokio::test]
async fn a_rate_limited_request_is_not_saved_for_its_idempotency_key() {
    // Arrange
    let app = spawn_app_with(tight_limits()).await;
    for _ in 0..2 {
        app.get("/v1/accounts", &app.platform.secret).await;
    }

    // Act: limited, with a key.
    let limited = app
        .send(
            app.request(Method::POST, "/v1/accounts")
                .bearer_auth(&app.platform.secret)
                .header("idempotency-key", "limited-1")
                .header("content-type", "application/x-www-form-urlencoded")
                .body("type=custom"),
        )
        .await;

    // Assert: nothing was recorded under the key.
    assert_eq!(limited.status, 429);
    let saved = app
        .database
        .count("idempotency_keys where key = 'limited-1'")
        .await;
    assert_eq!(saved, 0);
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    // Arrange
    let app = spawn_app_with(ApiConfig {
        connection: ConnectionLimits {
            header_read_timeout: Duration::from_millis(500),
            ..ConnectionLimits::default()
        },
        ..ApiConfig::default()
    })
    .await;
    let mut stream = raw_connection(&app).await;

    // Act: half a request, then silence.
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        .await
        .unwrap();
    let answer = read_until_closed(&mut stream, Duration::from_secs(5)).await;

    // Assert: closed (hyper may first send a 408), never served.
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    assert_eq!(
        app.send(app.request(Method::GET, "/healthz")).await.status,
        200
    );
}

#[tokio::test]
async fn a_header_section_over_the_cap_is_refused_and_the_server_carries_on() {
    // Arrange
    let app = spawn_app().await;
    let mut stream = raw_connection(&app).await;
    let huge = "x".repeat(200 * 1024);

    // Act
    let request = format!("GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Huge: {huge}\r\n\r\n");
    // The server may close the connection before reading it all.
    let _ = stream.write_all(request.as_bytes()).await;
    let answer = read_until_closed(&mut stream, Duration::from_secs(5)).await;

    // Assert
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{}",
        &answer[..answer.len().min(200)]
    );
    assert_eq!(
        app.send(app.request(Method::GET, "/healthz")).await.status,
        200
    );
}

#[tokio::test]
async fn many_headers_are_refused_and_the_server_carries_on() {
    // Arrange
    let app = spawn_app().await;
    let mut stream = raw_connection(&app).await;
    let headers: String = (0..500).map(|i| format!("X-H{i}: {i}\r\n")).collect();

    // Act
    let request = format!("GET /healthz HTTP/1.1\r\nHost: localhost\r\n{headers}\r\n");
    let _ = stream.write_all(request.as_bytes()).await;
    let answer = read_until_closed(&mut stream, Duration::from_secs(5)).await;

    // Assert: refused at the protocol level (431), never a 5xx.
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{}",
        &answer[..answer.len().min(200)]
    );
    assert_eq!(
        app.send(app.request(Method::GET, "/healthz")).await.status,
        200
    );
}

#[tokio::test]
async fn a_body_that_stops_arriving_gets_a_408_in_stripes_envelope() {
    // Arrange
    let app = spawn_app_with(ApiConfig {
        body_read_timeout: Duration::from_millis(300),
        ..ApiConfig::default()
    })
    .await;
    let mut stream = raw_connection(&app).await;

    // Act: a body announced at 100 bytes, 9 sent.
    let request = format!(
        "POST /v1/accounts HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ntype=cust",
        app.platform.secret
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut received = vec![0; 4096];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut received))
        .await
        .expect("no answer to a stalled body")
        .unwrap();
    let answer = String::from_utf8_lossy(&received[..read]).into_owned();

    // Assert
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains(r#""message":"The request body was not received within 300ms.""#),
        "{answer}"
    );
    assert!(
        answer.contains(r#""type":"invalid_request_error""#),
        "{answer}"
    );
}

#[tokio::test]
async fn bytes_that_are_not_what_they_claim_get_a_clean_4xx() {
    // Arrange
    let app = spawn_app().await;
    let bodies: [&[u8]; 6] = [
        b"type=%zz&email=%",
        b"\xff\xfe\x00\x01",
        b"metadata[%E0%A4%A]=x",
        b"&&&===&&",
        b"controller[[[[[[[[[[[[[[[[[[[[=1",
        b"a[]=1&a[0]=2&a=3",
    ];

    for body in bodies {
        // Act
        let response = app
            .send(
                app.request(Method::POST, "/v1/accounts")
                    .bearer_auth(&app.platform.secret)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body.to_vec()),
            )
            .await;

        // Assert: a client error or success, in the envelope; never a 5xx.
        assert!(response.status < 500, "{body:?}: {}", response.body);
        if response.status >= 400 {
            assert!(response.body["error"]["message"].is_string(), "{body:?}");
        }
    }
}

#[tokio::test]
async fn a_stripe_version_header_that_is_not_text_is_refused() {
    // Arrange
    let app = spawn_app().await;
    let mut stream = raw_connection(&app).await;

    // Act: a header value with bytes that are not UTF-8.
    let mut request =
        b"GET /v1/accounts HTTP/1.1\r\nHost: localhost\r\nStripe-Version: 2024-\xff\xfe\r\n"
            .to_vec();
    request.extend_from_slice(
        format!(
            "Authorization: Bearer {}\r\nConnection: close\r\n\r\n",
            app.platform.secret
        )
        .as_bytes(),
    );
    stream.write_all(&request).await.unwrap();
    let answer = read_until_closed(&mut stream, Duration::from_secs(5)).await;

    // Assert
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("Invalid Stripe API version"), "{answer}");
}
