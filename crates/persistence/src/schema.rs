//! The tables, as diesel sees them: one schema for both backends (see `migrations/`).
//!
//! Timestamps are `Timestamp` (UTC `NaiveDateTime`) on both, booleans `Bool`, money and
//! counters `BigInt`, small numbers `Integer`, stored responses `Binary`.

diesel::table! {
    stores (id) {
        id -> Text,
        name -> Text,
        currency -> Text,
        timezone -> Text,
        minor_units_per_point -> BigInt,
        customer_count -> BigInt,
        created_at -> Timestamp,
        max_order_minor -> BigInt,
    }
}

diesel::table! {
    users (store_id, id) {
        store_id -> Text,
        id -> Text,
        email -> Text,
        email_key -> Text,
        name -> Nullable<Text>,
        role -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    credentials (store_id, id) {
        store_id -> Text,
        id -> Text,
        kind -> Text,
        user_id -> Nullable<Text>,
        name -> Text,
        scopes -> Text,
        digest -> Text,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// The store of each secret issued before secrets named their store, by its digest:
    /// written once, by the migration that made credentials found within their store.
    legacy_secret_stores (digest) {
        digest -> Text,
        store_id -> Text,
    }
}

diesel::table! {
    customers (store_id, id) {
        store_id -> Text,
        id -> Text,
        first_name -> Nullable<Text>,
        last_name -> Nullable<Text>,
        first_name_key -> Nullable<Text>,
        email -> Nullable<Text>,
        email_key -> Nullable<Text>,
        phone -> Nullable<Text>,
        accepts_marketing -> Bool,
        locale -> Text,
        admin_notes -> Nullable<Text>,
        birth_date -> Nullable<Date>,
        search_text -> Text,
        is_blocked -> Bool,
        blocked_reason -> Nullable<Text>,
        blocked_at -> Nullable<Timestamp>,
        total_spent_minor -> BigInt,
        total_orders -> BigInt,
        last_order_at -> Nullable<Timestamp>,
        loyalty_points -> BigInt,
        version -> BigInt,
        ledger_seq -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    customer_addresses (store_id, id) {
        store_id -> Text,
        id -> Text,
        customer_id -> Text,
        line -> Nullable<Text>,
        zipcode -> Nullable<Text>,
        city -> Nullable<Text>,
        is_default -> Bool,
    }
}

diesel::table! {
    customer_allergens (store_id, customer_id, allergen) {
        store_id -> Text,
        customer_id -> Text,
        allergen -> Text,
    }
}

diesel::table! {
    orders (store_id, id) {
        store_id -> Text,
        id -> Text,
        customer_id -> Nullable<Text>,
        external_id -> Nullable<Text>,
        status -> Text,
        total_minor -> BigInt,
        currency -> Text,
        placed_at -> Timestamp,
        cancelled_at -> Nullable<Timestamp>,
        points_earned -> BigInt,
        request_claim -> Nullable<Text>,
        created_at -> Timestamp,
        recorded_by_type -> Nullable<Text>,
        recorded_by_id -> Nullable<Text>,
        cancelled_by_type -> Nullable<Text>,
        cancelled_by_id -> Nullable<Text>,
    }
}

diesel::table! {
    order_items (store_id, order_id, line_no) {
        store_id -> Text,
        order_id -> Text,
        line_no -> Integer,
        product_id -> Text,
        product_name -> Text,
        category_id -> Nullable<Text>,
        category_name -> Nullable<Text>,
        quantity -> BigInt,
        unit_price_minor -> BigInt,
    }
}

diesel::table! {
    ledger_entries (store_id, id) {
        store_id -> Text,
        id -> Text,
        customer_id -> Text,
        seq -> BigInt,
        delta -> BigInt,
        balance_after -> BigInt,
        reason -> Text,
        source -> Text,
        order_id -> Nullable<Text>,
        actor_id -> Nullable<Text>,
        request_claim -> Nullable<Text>,
        created_at -> Timestamp,
        actor_type -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (store_id, credential_id, key) {
        store_id -> Text,
        credential_id -> Text,
        key -> Text,
        request_digest -> Text,
        claim -> Text,
        state -> Text,
        response_status -> Nullable<Integer>,
        response_body -> Nullable<Binary>,
        locked_until -> Timestamp,
        created_at -> Timestamp,
        customer_id -> Nullable<Text>,
        holder -> Nullable<BigInt>,
    }
}

diesel::table! {
    reviews (store_id, id) {
        store_id -> Text,
        id -> Text,
        order_id -> Text,
        customer_id -> Nullable<Text>,
        rating -> Integer,
        food_rating -> Nullable<Integer>,
        delivery_rating -> Nullable<Integer>,
        packaging_rating -> Nullable<Integer>,
        comment -> Nullable<Text>,
        is_approved -> Bool,
        is_public -> Bool,
        is_featured -> Bool,
        response_text -> Nullable<Text>,
        responded_at -> Nullable<Timestamp>,
        responded_by -> Nullable<Text>,
        created_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    review_stats (store_id) {
        store_id -> Text,
        total -> BigInt,
        rated_1 -> BigInt,
        rated_2 -> BigInt,
        rated_3 -> BigInt,
        rated_4 -> BigInt,
        rated_5 -> BigInt,
        approved -> BigInt,
    }
}

diesel::table! {
    /// Failed logins by throttle key: the one table without `store_id` (a client address
    /// spans stores).
    login_failures (id) {
        id -> BigInt,
        throttle_key -> Text,
        failed_at -> Timestamp,
        attempt_id -> Nullable<Text>,
    }
}

diesel::table! {
    audit_entries (store_id, seq) {
        seq -> BigInt,
        store_id -> Text,
        id -> Text,
        at -> Timestamp,
        actor_kind -> Text,
        actor_id -> Nullable<Text>,
        action -> Text,
        customer_id -> Nullable<Text>,
        subject_id -> Nullable<Text>,
        fields -> Text,
        client_address -> Nullable<Text>,
        failure_count -> Nullable<BigInt>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    stores,
    users,
    credentials,
    customers,
    customer_addresses,
    customer_allergens,
    orders,
    order_items,
    ledger_entries,
    idempotency_keys,
    reviews,
    review_stats,
    audit_entries,
);
