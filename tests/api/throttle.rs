//! Login throttling and password-hashing bounds: concurrent guesses cannot slip past the
//! limits, nobody can lock anybody else out, `X-Forwarded-For` is believed only from trusted
//! proxies, and a login flood is shed with 503 instead of hashing without bound.

use customers_domain::access::LoginFailureRepository;
use customers_tests::testing::TestDatabase;
use customers_tests::{Remote, Reply, TestServer, json, on_both_backends, on_both_databases};
use reqwest::{Method, StatusCode};
use serde_json::Value;

on_both_databases!(
    concurrent_guesses_for_one_email_reach_the_password_check_at_most_five_times,
    failures_from_one_address_do_not_lock_out_its_other_users,
    a_forged_forwarded_for_from_an_untrusted_peer_is_ignored,
    an_unknown_store_costs_a_check_but_is_filed_under_no_store,
);

on_both_backends!(
    a_right_password_from_a_clean_address_passes_while_the_guesser_is_refused,
    one_address_has_a_configurable_ceiling_across_accounts,
    a_login_flood_beyond_the_hashing_queue_is_shed_with_503,
);

const RIGHT: &str = "the right password";

async fn staff_user(s: &TestServer, email: &str) -> String {
    let created = s
        .post(
            "/users",
            &s.owner_token,
            json!({"email": email, "password": RIGHT, "role": "staff"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    created.data()["id"].as_str().unwrap().to_owned()
}

async fn login(
    remote: &Remote,
    store: &str,
    email: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> Reply {
    let headers: Vec<(&str, &str)> = forwarded_for
        .map(|address| ("x-forwarded-for", address))
        .into_iter()
        .collect();
    remote
        .send_with(
            Method::POST,
            "/auth/login",
            None,
            Some(&json!({"storeId": store, "email": email, "password": password})),
            &headers,
        )
        .await
}

/// The store's audit entries of `action`, newest first.
async fn entries(s: &TestServer, action: &str) -> Vec<Value> {
    let reply = s
        .get(&format!("/audit?limit=100&action={action}"), &s.owner_token)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.data().as_array().expect("a list").clone()
}

fn addresses(entries: &[Value]) -> Vec<&str> {
    entries
        .iter()
        .map(|e| e["clientAddress"].as_str().unwrap_or("none"))
        .collect()
}

async fn concurrent_guesses_for_one_email_reach_the_password_check_at_most_five_times(
    s: TestServer,
) {
    let email = "guessed@example.dk";
    staff_user(&s, email).await;
    let guesses: Vec<_> = (0..100)
        .map(|n| {
            let (remote, store) = (s.remote(), s.store_id.clone());
            tokio::spawn(
                async move { login(&remote, &store, email, &format!("guess {n}"), None).await },
            )
        })
        .collect();
    let (mut checked, mut refused) = (0, 0);
    for guess in guesses {
        let reply = guess.await.unwrap();
        match reply.status {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(reply.code(), "RATE_LIMITED");
                let wait: u64 = reply.header("retry-after").unwrap().parse().unwrap();
                assert!((1..=900).contains(&wait), "{wait}");
                refused += 1;
            }
            other => panic!("unexpected {other}: {:?}", reply.body),
        }
    }
    assert_eq!(checked + refused, 100);
    assert!(
        (1..=5).contains(&checked),
        "{checked} guesses reached the password check"
    );
    // Every checked guess, and only those, left a failed-login entry.
    let failed = entries(&s, "auth.login_failed").await;
    assert_eq!(failed.len(), checked);
    assert!(addresses(&failed).iter().all(|a| *a == "127.0.0.1"));
    // The refusals left one entry, with the count and the address, never the email.
    let noted = entries(&s, "auth.login_refused").await;
    assert_eq!(noted.len(), 1, "{noted:?}");
    assert_eq!(noted[0]["clientAddress"], "127.0.0.1");
    assert_eq!(noted[0]["failureCount"], 5);
    assert_eq!(noted[0]["actor"]["type"], "anonymous");
    assert!(!noted[0].to_string().contains("guessed"), "{}", noted[0]);
    // Not even the right password gets through from the guessing address.
    let right = login(&s.remote(), &s.store_id, email, RIGHT, None).await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(entries(&s, "auth.login_refused").await.len(), 1);
}

async fn failures_from_one_address_do_not_lock_out_its_other_users(s: TestServer) {
    staff_user(&s, "colleague@example.dk").await;
    for n in 0..6 {
        let email = format!("nobody-{n}@example.dk");
        let reply = login(&s.remote(), &s.store_id, &email, "guess", None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "attempt {n}");
    }
    // Six failures from this address, on other accounts: a colleague behind the same address
    // still logs in.
    let colleague = login(
        &s.remote(),
        &s.store_id,
        "colleague@example.dk",
        RIGHT,
        None,
    )
    .await;
    assert_eq!(colleague.status, StatusCode::OK, "{:?}", colleague.body);
}

async fn a_forged_forwarded_for_from_an_untrusted_peer_is_ignored(s: TestServer) {
    let email = "forged@example.dk";
    staff_user(&s, email).await;
    for n in 0..5 {
        let forged = format!("198.51.100.{n}");
        let reply = login(&s.remote(), &s.store_id, email, "guess", Some(&forged)).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    // Five fresh forged addresses did not make five fresh clients: the socket's address is.
    let sixth = login(
        &s.remote(),
        &s.store_id,
        email,
        "guess",
        Some("203.0.113.9"),
    )
    .await;
    assert_eq!(sixth.status, StatusCode::TOO_MANY_REQUESTS);
    let failed = entries(&s, "auth.login_failed").await;
    assert_eq!(addresses(&failed), vec!["127.0.0.1"; 5]);
}

async fn an_unknown_store_costs_a_check_but_is_filed_under_no_store(s: TestServer) {
    let unknown = "store_zzzzzzzzzzzz";
    let reply = login(&s.remote(), unknown, "chef@example.dk", "guess", None).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.code(), "UNAUTHORIZED");
    let db = s.database().database();
    let rows = |key: &str| db.failures_since(vec![key.to_owned()], chrono::DateTime::UNIX_EPOCH);
    assert_eq!(
        rows(&format!("account:{unknown}:chef@example.dk"))
            .await
            .unwrap(),
        vec![],
        "no account of a store that does not exist"
    );
    assert_eq!(rows("client:127.0.0.1").await.unwrap().len(), 1);
    assert!(entries(&s, "auth.login_failed").await.is_empty());
}

async fn a_right_password_from_a_clean_address_passes_while_the_guesser_is_refused(
    database: TestDatabase,
) {
    let s = TestServer::start_with(database, |options| {
        options.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let email = "owner-of-account@example.dk";
    let user = staff_user(&s, email).await;
    let guesser = Some("198.51.100.66");
    for _ in 0..5 {
        let reply = login(&s.remote(), &s.store_id, email, "guess", guesser).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    // One guess each from ten fresh addresses (each allowed once: none had failed) pushes the
    // account deep into back-off.
    for n in 0..10 {
        let fresh = format!("198.51.100.{}", 100 + n);
        let reply = login(&s.remote(), &s.store_id, email, "guess", Some(&fresh)).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "fresh address {n}");
    }
    let refused = login(&s.remote(), &s.store_id, email, RIGHT, guesser).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    let backed_off = login(
        &s.remote(),
        &s.store_id,
        email,
        RIGHT,
        Some("198.51.100.100"),
    )
    .await;
    assert_eq!(backed_off.status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = backed_off.header("retry-after").unwrap().parse().unwrap();
    assert!(wait > 60, "back-off after 15 failures: {wait} s");
    // The account's owner, from an address with no recent failure, is let in.
    let owner = login(&s.remote(), &s.store_id, email, RIGHT, Some("203.0.113.5")).await;
    assert_eq!(owner.status, StatusCode::OK, "{:?}", owner.body);
    assert_eq!(owner.data()["user"]["id"], user.as_str());
    // The failed entries name the forwarded clients, not the proxy.
    let failed = entries(&s, "auth.login_failed").await;
    assert_eq!(failed.len(), 15);
    let seen = addresses(&failed);
    assert_eq!(seen.iter().filter(|a| **a == "198.51.100.66").count(), 5);
    assert!(seen.contains(&"198.51.100.109"), "{seen:?}");
    // The guesser is still refused after the owner's success.
    let again = login(&s.remote(), &s.store_id, email, "guess", guesser).await;
    assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS);
}

async fn one_address_has_a_configurable_ceiling_across_accounts(database: TestDatabase) {
    let s = TestServer::start_with(database, |options| {
        options.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        options.login_max_failures_per_address = 3;
    })
    .await;
    staff_user(&s, "late@example.dk").await;
    let sprayer = Some("198.51.100.1");
    for n in 0..3 {
        let email = format!("sprayed-{n}@example.dk");
        let reply = login(&s.remote(), &s.store_id, &email, "guess", sprayer).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let ceiling = login(&s.remote(), &s.store_id, "late@example.dk", RIGHT, sprayer).await;
    assert_eq!(ceiling.status, StatusCode::TOO_MANY_REQUESTS);
    // Another address (behind the same trusted proxy) is not affected.
    let other = login(
        &s.remote(),
        &s.store_id,
        "late@example.dk",
        RIGHT,
        Some("198.51.100.2"),
    )
    .await;
    assert_eq!(other.status, StatusCode::OK, "{:?}", other.body);
}

async fn a_login_flood_beyond_the_hashing_queue_is_shed_with_503(database: TestDatabase) {
    let s = TestServer::start_with(database, |options| {
        options.hashing.concurrency = 1;
        options.hashing.queue = 0;
    })
    .await;
    let flood: Vec<_> = (0..40)
        .map(|n| {
            let remote = s.remote();
            tokio::spawn(async move {
                let email = format!("flood-{n}@example.dk");
                login(&remote, "store_zzzzzzzzzzzz", &email, "guess", None).await
            })
        })
        .collect();
    let (mut checked, mut shed) = (0, 0);
    for login in flood {
        let reply = login.await.unwrap();
        match reply.status {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(reply.code(), "SERVICE_UNAVAILABLE");
                assert_eq!(reply.header("retry-after"), Some("1"));
                shed += 1;
            }
            other => panic!("unexpected {other}: {:?}", reply.body),
        }
    }
    assert_eq!(checked + shed, 40);
    assert!(
        shed >= 1,
        "one hash at a time, no queue: some of 40 are shed"
    );
    assert!(checked >= 1);
    // A shed login was never checked, so it does not count against the address.
    let db = s.database().database();
    let counted = db
        .failures_since(
            vec!["client:127.0.0.1".into()],
            chrono::DateTime::UNIX_EPOCH,
        )
        .await
        .unwrap();
    assert_eq!(counted.len(), checked);
}
