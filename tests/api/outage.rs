//! The database goes away while the service runs, then comes back: clear 503s meanwhile,
//! health stays up, and the service recovers without a restart.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use customers_tests::testing::TestDatabase;
use customers_tests::{TcpProxy, TestServer, json};
use reqwest::{Method, StatusCode};

/// `url` with its `host:port` replaced by `address`, and that `host:port`.
fn through(url: &str, address: SocketAddr) -> (String, String) {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let (user, host) = match authority.rsplit_once('@') {
        Some((user, host)) => (format!("{user}@"), host),
        None => (String::new(), authority),
    };
    (format!("{scheme}://{user}{address}{path}"), host.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_gives_503_and_the_service_recovers_by_itself() {
    let Some(database) = TestDatabase::postgres().await else {
        return;
    };
    let (_, upstream) = through(database.url(), "127.0.0.1:1".parse().unwrap());
    let upstream = tokio::net::lookup_host(upstream)
        .await
        .expect("the database's address")
        .next()
        .expect("one address");
    let proxy = TcpProxy::start(upstream).await;
    let (proxied, _) = through(database.url(), proxy.address());
    let db_timeout = Duration::from_millis(1000);
    let s = TestServer::start_with(database, |options| {
        options.database.url = proxied;
        options.database.wait_timeout = db_timeout;
        options.database.connect_timeout = db_timeout;
    })
    .await;
    let id = s.customer(json!({"firstName": "Before"})).await;

    // Stopped for two seconds, then blocked (silent) for two more.
    let outage = Instant::now();
    let mut answered = 0;
    for silent in [false, true] {
        if silent {
            proxy.silence();
        } else {
            proxy.cut();
        }
        let phase = Instant::now();
        while phase.elapsed() < Duration::from_secs(2) {
            for (method, path, body) in [
                (Method::GET, format!("/customers/{id}"), None),
                (Method::GET, "/customers".to_owned(), None),
                (
                    Method::POST,
                    "/customers".to_owned(),
                    Some(json!({"firstName": "During"})),
                ),
            ] {
                let started = Instant::now();
                let reply = s
                    .send(method.clone(), &path, Some(&s.owner_token), body.as_ref())
                    .await;
                assert_eq!(
                    reply.status,
                    StatusCode::SERVICE_UNAVAILABLE,
                    "{method} {path}: {:?}",
                    reply.body
                );
                assert_eq!(reply.code(), "SERVICE_UNAVAILABLE");
                assert!(reply.header("retry-after").is_some());
                // Within the database timeout (a wait for a connection, then opening one).
                assert!(
                    started.elapsed() < db_timeout * 2 + Duration::from_millis(500),
                    "{method} {path} took {:?}",
                    started.elapsed()
                );
                answered += 1;
            }
            let ready = s.send(Method::GET, "/readyz", None, None).await;
            assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
            let alive = s.send(Method::GET, "/healthz", None, None).await;
            assert_eq!(alive.status, StatusCode::OK);
        }
    }
    let down_for = outage.elapsed();

    proxy.restore();
    let back = Instant::now();
    let mut recovered = None;
    while back.elapsed() < Duration::from_secs(15) {
        let reply = s.get(&format!("/customers/{id}"), &s.owner_token).await;
        if reply.status == StatusCode::OK {
            recovered = Some(back.elapsed());
            break;
        }
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let recovered = recovered.expect("the service recovers without a restart");
    eprintln!(
        "outage of {down_for:?} ({answered} requests, all 503); recovered {recovered:?} after \
         the database returned"
    );
    let ready = s.send(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, StatusCode::OK);
    let list = s.get("/customers", &s.owner_token).await;
    assert_eq!(
        list.body["meta"]["total"], 1,
        "nothing was written during the outage"
    );
    let after = s
        .post("/customers", &s.owner_token, json!({"firstName": "After"}))
        .await;
    assert_eq!(after.status, StatusCode::CREATED);
}
