//! Customers: round trips, uniqueness, tenancy, versions, replacement and deletion.

use std::time::Duration;

use crate::backend::Backend;
use customers_domain::customer::CustomerRepository;
use customers_domain::customer::{
    Address, AdminNotes, Allergen, Allergens, CustomerFilter, Email, Locale, Phone, Profile,
};
use customers_domain::ids::AddressId;
use customers_domain::ports::{RepoError, Unique};

use crate::support::{
    at, audit, blank_customer, counted, customer_id, find, full_customer, insert, list_ids, new_id,
    new_store, query, really_counted, with_contact,
};

pub async fn insert_and_find_round_trip_every_field<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let full = full_customer(&store, customer_id(1));
    insert(db, &full).await;
    assert_eq!(find(db, &store, &full.id).await, Some(full.clone()));

    let blank = blank_customer(&store, customer_id(2));
    insert(db, &blank).await;
    assert_eq!(find(db, &store, &blank.id).await, Some(blank));

    // Activity and block state read back too.
    let activity = customers_domain::customer::Activity {
        total_spent_minor: 12_345,
        total_orders: 3,
        last_order_at: Some(at(60)),
        loyalty_points: 123,
    };
    assert!(t.set_activity(&store, &full.id, &activity).await.unwrap());
    let block = customers_domain::customer::Block {
        reason: Some(customers_domain::customer::BlockReason::from_stored(
            "No-show ×3".into(),
        )),
        at: at(90),
    };
    assert!(t.set_block(&store, &full.id, Some(&block)).await.unwrap());
    let found = find(db, &store, &full.id).await.unwrap();
    assert_eq!(found.activity, activity);
    assert_eq!(found.block, Some(block));
    assert_eq!(found.profile, full.profile);
    assert_eq!(find(db, &store, &customer_id(3)).await, None);
}

pub async fn customer_email_is_unique_per_store_case_insensitively<B: Backend>(t: &B) {
    let db = t.repos();
    let (store, other) = (new_store(db).await, new_store(db).await);
    let first = with_contact(
        blank_customer(&store, customer_id(1)),
        Some("Maria@Example.dk"),
        None,
    );
    insert(db, &first).await;
    let same = with_contact(
        blank_customer(&store, customer_id(2)),
        Some("maria@example.DK"),
        None,
    );
    assert_eq!(
        CustomerRepository::insert(db, &same, &audit(&same.store_id)).await,
        Err(RepoError::Conflict(Unique::CustomerEmail))
    );
    // The same email in another store is another customer.
    let elsewhere = with_contact(
        blank_customer(&other, customer_id(2)),
        Some("MARIA@example.dk"),
        None,
    );
    insert(db, &elsewhere).await;
    // Many customers may have no email.
    insert(db, &blank_customer(&store, customer_id(3))).await;
    insert(db, &blank_customer(&store, customer_id(4))).await;
    assert_eq!(counted(db, &store).await, 3);
    assert_eq!(really_counted(db, &store).await, 3);
}

pub async fn customer_phone_is_unique_per_store<B: Backend>(t: &B) {
    let db = t.repos();
    let (store, other) = (new_store(db).await, new_store(db).await);
    insert(
        db,
        &with_contact(
            blank_customer(&store, customer_id(1)),
            None,
            Some("+4520123456"),
        ),
    )
    .await;
    let same = with_contact(
        blank_customer(&store, customer_id(2)),
        None,
        Some("+4520123456"),
    );
    assert_eq!(
        CustomerRepository::insert(db, &same, &audit(&same.store_id)).await,
        Err(RepoError::Conflict(Unique::CustomerPhone))
    );
    insert(
        db,
        &with_contact(
            blank_customer(&other, customer_id(2)),
            None,
            Some("+4520123456"),
        ),
    )
    .await;
    insert(
        db,
        &with_contact(
            blank_customer(&store, customer_id(3)),
            None,
            Some("+4520123457"),
        ),
    )
    .await;
    // The failed insert left nothing behind, the counter included.
    assert_eq!(find(db, &store, &customer_id(2)).await, None);
    assert_eq!(counted(db, &store).await, 2);
    assert_eq!(really_counted(db, &store).await, 2);
}

pub async fn another_stores_id_sees_nothing<B: Backend>(t: &B) {
    let db = t.repos();
    let (store, intruder) = (new_store(db).await, new_store(db).await);
    let customer = full_customer(&store, customer_id(1));
    insert(db, &customer).await;

    assert_eq!(find(db, &intruder, &customer.id).await, None);
    let changed = Profile {
        admin_notes: Some(AdminNotes::from_stored("hijacked".into())),
        ..customer.profile.clone()
    };
    assert_eq!(
        db.update_profile(
            &intruder,
            &customer.id,
            &changed,
            1,
            at(5),
            &audit(&intruder)
        )
        .await,
        Ok(false)
    );
    assert_eq!(
        CustomerRepository::delete(db, &intruder, &customer.id, &audit(&intruder)).await,
        Ok(false)
    );
    assert_eq!(
        t.set_activity(&intruder, &customer.id, &Default::default())
            .await,
        Ok(false)
    );

    assert_eq!(find(db, &store, &customer.id).await, Some(customer));
    assert_eq!(counted(db, &store).await, 1);
    assert_eq!(counted(db, &intruder).await, 0);
}

pub async fn stale_version_changes_nothing<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let customer = full_customer(&store, customer_id(1));
    insert(db, &customer).await;

    let first = Profile {
        accepts_marketing: false,
        ..customer.profile.clone()
    };
    assert_eq!(
        db.update_profile(&store, &customer.id, &first, 1, at(10), &audit(&store))
            .await,
        Ok(true)
    );
    let after_first = find(db, &store, &customer.id).await.unwrap();
    assert_eq!((after_first.version, after_first.updated_at), (2, at(10)));
    assert_eq!(after_first.created_at, customer.created_at);

    let stale = Profile {
        first_name: None,
        allergens: Allergens::default(),
        default_address: None,
        ..customer.profile.clone()
    };
    assert_eq!(
        db.update_profile(&store, &customer.id, &stale, 1, at(20), &audit(&store))
            .await,
        Ok(false)
    );
    assert_eq!(find(db, &store, &customer.id).await, Some(after_first));
}

pub async fn update_replaces_columns_address_and_allergens<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let customer = full_customer(&store, customer_id(1));
    insert(db, &customer).await;
    let address = customer.profile.default_address.clone().unwrap();

    // Every column changes; the same address id is updated in place.
    let changed = Profile {
        first_name: None,
        last_name: Some(customers_domain::customer::PersonName::from_stored(
            "Berg".into(),
        )),
        email: Some(Email::from_stored("m.berg@example.com".into())),
        phone: None,
        accepts_marketing: false,
        locale: Locale::from_stored("da-DK".into()),
        default_address: Some(Address {
            city: None,
            zipcode: Some("2100".into()),
            ..address.clone()
        }),
        admin_notes: None,
        birth_date: None,
        allergens: [Allergen::Fish, Allergen::Gluten].into_iter().collect(),
    };
    assert_eq!(
        db.update_profile(&store, &customer.id, &changed, 1, at(10), &audit(&store))
            .await,
        Ok(true)
    );
    let found = find(db, &store, &customer.id).await.unwrap();
    assert_eq!(found.profile, changed);
    assert_eq!(found.version, 2);

    // A new address id replaces the old default address.
    let moved = Profile {
        default_address: Some(Address {
            id: AddressId::from_stored(new_id("addr")),
            line: Some("Vesterbrogade 2".into()),
            zipcode: None,
            city: Some("København V".into()),
        }),
        ..changed.clone()
    };
    assert_eq!(
        db.update_profile(&store, &customer.id, &moved, 2, at(20), &audit(&store))
            .await,
        Ok(true)
    );
    assert_eq!(find(db, &store, &customer.id).await.unwrap().profile, moved);

    // No address and no allergens clear both.
    let cleared = Profile {
        default_address: None,
        allergens: Allergens::default(),
        ..moved.clone()
    };
    assert_eq!(
        db.update_profile(&store, &customer.id, &cleared, 3, at(30), &audit(&store))
            .await,
        Ok(true)
    );
    let found = find(db, &store, &customer.id).await.unwrap();
    assert_eq!(found.profile, cleared);
    assert_eq!((found.version, found.updated_at), (4, at(30)));
    let with_fish = CustomerFilter {
        allergen: Some(Allergen::Fish),
        ..CustomerFilter::default()
    };
    assert_eq!(list_ids(db, &store, &query(with_fish)).await, (vec![], 0));

    // The old address ids are free again: nothing of them was left behind.
    let mut reuse = blank_customer(&store, customer_id(2));
    reuse.profile.default_address = Some(address);
    insert(db, &reuse).await;
    // The email and phone given up are free for others.
    let old_contact = with_contact(
        blank_customer(&store, customer_id(3)),
        customer.profile.email.as_ref().map(Email::as_str),
        customer.profile.phone.as_ref().map(Phone::as_str),
    );
    insert(db, &old_contact).await;
}

pub async fn conflicting_update_changes_nothing<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let taken = with_contact(
        blank_customer(&store, customer_id(1)),
        Some("taken@example.dk"),
        Some("+4511111111"),
    );
    insert(db, &taken).await;
    let customer = full_customer(&store, customer_id(2));
    insert(db, &customer).await;

    let email = Profile {
        email: Some(Email::from_stored("TAKEN@example.dk".into())),
        allergens: Allergens::default(),
        ..customer.profile.clone()
    };
    assert_eq!(
        db.update_profile(&store, &customer.id, &email, 1, at(10), &audit(&store))
            .await,
        Err(RepoError::Conflict(Unique::CustomerEmail))
    );
    let phone = Profile {
        phone: Some(Phone::from_stored("+4511111111".into())),
        default_address: None,
        ..customer.profile.clone()
    };
    assert_eq!(
        db.update_profile(&store, &customer.id, &phone, 1, at(10), &audit(&store))
            .await,
        Err(RepoError::Conflict(Unique::CustomerPhone))
    );
    assert_eq!(find(db, &store, &customer.id).await, Some(customer));
}

pub async fn delete_frees_email_phone_and_counts_down<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let customer = full_customer(&store, customer_id(1));
    insert(db, &customer).await;
    insert(db, &blank_customer(&store, customer_id(2))).await;
    assert_eq!(counted(db, &store).await, 2);

    assert_eq!(
        CustomerRepository::delete(db, &store, &customer.id, &audit(&store)).await,
        Ok(true)
    );
    assert_eq!(find(db, &store, &customer.id).await, None);
    assert_eq!(
        CustomerRepository::delete(db, &store, &customer.id, &audit(&store)).await,
        Ok(false)
    );
    assert_eq!(counted(db, &store).await, 1);
    assert_eq!(really_counted(db, &store).await, 1);

    // Email, phone, address id and allergen rows are all gone with it.
    let again = full_customer(&store, customer_id(3));
    let mut again = with_contact(
        again,
        customer
            .profile
            .email
            .as_ref()
            .map(|e| e.as_str().to_uppercase())
            .as_deref(),
        customer.profile.phone.as_ref().map(Phone::as_str),
    );
    again.profile.default_address = customer.profile.default_address.clone();
    insert(db, &again).await;
    assert_eq!(find(db, &store, &again.id).await, Some(again));
    assert_eq!(counted(db, &store).await, 2);
    assert_eq!(really_counted(db, &store).await, 2);
}

/// A caller that gives up mid-write (a dropped request) leaves no half-written customer and
/// no connection stuck in a transaction: the write runs to its end regardless.
pub async fn dropped_write_still_completes_whole<B: Backend>(t: &B) {
    let db = t.repos();
    let store = new_store(db).await;
    let customer = full_customer(&store, customer_id(1));
    let abandoned = tokio::time::timeout(
        Duration::from_micros(1),
        CustomerRepository::insert(db, &customer, &audit(&customer.store_id)),
    )
    .await;
    if abandoned.is_err() {
        let mut waited = Duration::ZERO;
        while find(db, &store, &customer.id).await.is_none() {
            assert!(
                waited < Duration::from_secs(5),
                "the abandoned insert never completed"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
            waited += Duration::from_millis(10);
        }
    }
    assert_eq!(find(db, &store, &customer.id).await, Some(customer));
    assert_eq!(counted(db, &store).await, 1);
    assert_eq!(really_counted(db, &store).await, 1);
    // Every pooled connection still works (none is left inside a transaction).
    for n in 2..10 {
        insert(db, &blank_customer(&store, customer_id(n))).await;
    }
    assert_eq!(counted(db, &store).await, 9);
}

pub async fn blocking_again_keeps_the_first_time_and_takes_the_new_reason<B: Backend>(t: &B) {
    use customers_domain::customer::{Block, BlockReason};
    let db = t.repos();
    let (store, other) = (new_store(db).await, new_store(db).await);
    let customer = full_customer(&store, customer_id(1));
    insert(db, &customer).await;
    let block = |reason: Option<&str>, minutes| Block {
        reason: reason.map(|r| BlockReason::from_stored(r.into())),
        at: at(minutes),
    };

    assert_eq!(
        db.set_block(
            &store,
            &customer.id,
            Some(block(Some("no-show"), 10)),
            at(10),
            &audit(&store),
        )
        .await,
        Ok(true)
    );
    let found = find(db, &store, &customer.id).await.unwrap();
    assert_eq!(found.block, Some(block(Some("no-show"), 10)));
    assert_eq!(found.updated_at, at(10));
    assert_eq!(
        (found.version, found.profile),
        (customer.version, customer.profile.clone())
    );

    assert_eq!(
        db.set_block(
            &store,
            &customer.id,
            Some(block(Some("rude"), 20)),
            at(20),
            &audit(&store)
        )
        .await,
        Ok(true)
    );
    assert_eq!(
        find(db, &store, &customer.id).await.unwrap().block,
        Some(block(Some("rude"), 10))
    );
    assert_eq!(
        db.set_block(
            &store,
            &customer.id,
            Some(block(None, 30)),
            at(30),
            &audit(&store)
        )
        .await,
        Ok(true)
    );
    assert_eq!(
        find(db, &store, &customer.id).await.unwrap().block,
        Some(block(None, 10))
    );
    let filter = CustomerFilter {
        is_blocked: Some(true),
        ..CustomerFilter::default()
    };
    assert_eq!(list_ids(db, &store, &query(filter.clone())).await.1, 1);

    // Unblocking clears all three; blocking afterwards starts a new block.
    assert_eq!(
        db.set_block(&store, &customer.id, None, at(40), &audit(&store))
            .await,
        Ok(true)
    );
    let found = find(db, &store, &customer.id).await.unwrap();
    assert_eq!((found.block, found.updated_at), (None, at(40)));
    assert_eq!(list_ids(db, &store, &query(filter)).await.1, 0);
    assert_eq!(
        db.set_block(&store, &customer.id, None, at(41), &audit(&store))
            .await,
        Ok(true)
    );
    db.set_block(
        &store,
        &customer.id,
        Some(block(Some("again"), 50)),
        at(50),
        &audit(&store),
    )
    .await
    .unwrap();
    assert_eq!(
        find(db, &store, &customer.id).await.unwrap().block,
        Some(block(Some("again"), 50))
    );

    // Unknown here, or another store's.
    assert_eq!(
        db.set_block(&store, &customer_id(2), None, at(60), &audit(&store))
            .await,
        Ok(false)
    );
    assert_eq!(
        db.set_block(
            &other,
            &customer.id,
            Some(block(None, 60)),
            at(60),
            &audit(&other)
        )
        .await,
        Ok(false)
    );
}
