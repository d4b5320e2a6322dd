//! Prometheus metrics (`GET /metrics`, text format 0.0.4): requests by route pattern and
//! status, their latency, the database pool, and the build.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};

/// Upper bounds (seconds) of the latency histogram's buckets.
pub const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// The database pool at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolGauges {
    pub max_size: usize,
    pub size: usize,
    pub available: usize,
    pub waiting: usize,
}

/// Reads the pool's gauges when metrics are scraped.
pub type PoolProbe = Arc<dyn Fn() -> PoolGauges + Send + Sync>;

#[derive(Default)]
struct Series {
    count: u64,
    sum_seconds: f64,
    /// Observations at or below each bound of [`BUCKETS`] (cumulative when rendered).
    buckets: [u64; BUCKETS.len()],
}

/// Request counters and latency histograms, shared by every worker.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), Series>>,
}

/// The methods HTTP defines (RFC 9110 and PATCH): each is a label value of its own.
const KNOWN_METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

/// The label of a method nobody defines: a client makes up as many methods as it likes, and
/// each raw one would be a series of its own.
pub const OTHER_METHOD: &str = "OTHER";

/// The route label of a request no route matched: its raw path is never a label.
pub const UNMATCHED_ROUTE: &str = "(unmatched)";

/// The method as a label: a method HTTP defines, else [`OTHER_METHOD`].
pub fn method_label(method: &str) -> &'static str {
    KNOWN_METHODS
        .iter()
        .find(|known| **known == method)
        .copied()
        .unwrap_or(OTHER_METHOD)
}

fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    /// Counts one request: its method (a method HTTP does not define counts as
    /// [`OTHER_METHOD`]), its route pattern (`None`, no route matched, counts as
    /// [`UNMATCHED_ROUTE`]; never the raw path), status and latency. The number of series
    /// is bounded by the routes, the methods and the statuses, whatever clients send.
    pub fn observe(&self, method: &str, route: Option<&str>, status: u16, seconds: f64) {
        let method = method_label(method);
        let route = route.unwrap_or(UNMATCHED_ROUTE);
        let mut requests = self
            .requests
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let series = requests
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default();
        series.count += 1;
        series.sum_seconds += seconds;
        if let Some(i) = BUCKETS.iter().position(|bound| seconds <= *bound) {
            series.buckets[i] += 1;
        }
    }

    /// Everything, in the Prometheus text format.
    pub fn render(&self, pool: PoolGauges) -> String {
        let mut out = String::new();
        let requests = self
            .requests
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        out.push_str("# HELP customers_http_requests_total HTTP requests by method, route pattern and status.\n");
        out.push_str("# TYPE customers_http_requests_total counter\n");
        for ((method, route, status), series) in requests.iter() {
            let _ = writeln!(
                out,
                "customers_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {}",
                label(method),
                label(route),
                series.count
            );
        }
        out.push_str("# HELP customers_http_request_duration_seconds Time to answer a request.\n");
        out.push_str("# TYPE customers_http_request_duration_seconds histogram\n");
        for ((method, route, status), series) in requests.iter() {
            let labels = format!(
                "method=\"{}\",route=\"{}\",status=\"{status}\"",
                label(method),
                label(route)
            );
            let mut cumulative = 0;
            for (bound, count) in BUCKETS.iter().zip(series.buckets) {
                cumulative += count;
                let _ = writeln!(
                    out,
                    "customers_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "customers_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                series.count
            );
            let _ = writeln!(
                out,
                "customers_http_request_duration_seconds_sum{{{labels}}} {}",
                series.sum_seconds
            );
            let _ = writeln!(
                out,
                "customers_http_request_duration_seconds_count{{{labels}}} {}",
                series.count
            );
        }
        drop(requests);
        let gauges = [
            (
                "customers_db_pool_max_connections",
                "Most connections the pool opens.",
                pool.max_size,
            ),
            (
                "customers_db_pool_connections",
                "Connections open now.",
                pool.size,
            ),
            (
                "customers_db_pool_in_use",
                "Open connections serving a request.",
                pool.size.saturating_sub(pool.available),
            ),
            (
                "customers_db_pool_idle",
                "Open connections nobody uses.",
                pool.available,
            ),
            (
                "customers_db_pool_waiting",
                "Requests waiting for a connection.",
                pool.waiting,
            ),
        ];
        for (name, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        out.push_str(
            "# HELP customers_build_info The running build.\n# TYPE customers_build_info gauge\n",
        );
        let _ = writeln!(
            out,
            "customers_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_and_counted() {
        let metrics = Metrics::default();
        metrics.observe("GET", Some("/customers"), 200, 0.003);
        metrics.observe("GET", Some("/customers"), 200, 0.2);
        metrics.observe("GET", Some("/customers"), 200, 9.0);
        let text = metrics.render(PoolGauges::default());
        let series = "method=\"GET\",route=\"/customers\",status=\"200\"";
        assert!(text.contains(&format!("customers_http_requests_total{{{series}}} 3")));
        assert!(text.contains(&format!(
            "customers_http_request_duration_seconds_bucket{{{series},le=\"0.005\"}} 1"
        )));
        assert!(text.contains(&format!(
            "customers_http_request_duration_seconds_bucket{{{series},le=\"0.25\"}} 2"
        )));
        assert!(text.contains(&format!(
            "customers_http_request_duration_seconds_bucket{{{series},le=\"5\"}} 2"
        )));
        assert!(text.contains(&format!(
            "customers_http_request_duration_seconds_bucket{{{series},le=\"+Inf\"}} 3"
        )));
        assert!(text.contains(&format!(
            "customers_http_request_duration_seconds_count{{{series}}} 3"
        )));
    }

    #[test]
    fn pool_gauges_and_build_info_are_shown() {
        let text = Metrics::default().render(PoolGauges {
            max_size: 16,
            size: 5,
            available: 2,
            waiting: 1,
        });
        assert!(text.contains("customers_db_pool_max_connections 16"));
        assert!(text.contains("customers_db_pool_in_use 3"));
        assert!(text.contains("customers_db_pool_idle 2"));
        assert!(text.contains("customers_db_pool_waiting 1"));
        assert!(text.contains("customers_build_info{version=\""));
    }

    #[test]
    fn only_defined_methods_are_labels_of_their_own() {
        for method in KNOWN_METHODS {
            assert_eq!(method_label(method), method);
        }
        for made_up in ["get", "FOO", "PROPFIND", "", "GETT", "G\"E"] {
            assert_eq!(method_label(made_up), OTHER_METHOD, "{made_up:?}");
        }
    }

    #[test]
    fn made_up_methods_and_paths_add_no_series() {
        let metrics = Metrics::default();
        metrics.observe("GET", None, 404, 0.001);
        let baseline = metrics.render(PoolGauges::default()).len();
        for i in 0..1_000 {
            let method = format!("M{i:015}");
            metrics.observe(&method, None, 404, 0.001);
            metrics.observe("GET", None, 404, 0.001);
        }
        let text = metrics.render(PoolGauges::default());
        assert!(
            text.contains(
                "customers_http_requests_total{method=\"OTHER\",route=\"(unmatched)\",status=\"404\"} 1000"
            ),
            "{text}"
        );
        assert!(text.contains(
            "customers_http_requests_total{method=\"GET\",route=\"(unmatched)\",status=\"404\"} 1001"
        ));
        assert!(!text.contains("M000000000000001"));
        // One more series (OTHER) than before: its 16 lines, each under 200 bytes.
        assert!(text.len() < baseline + 16 * 200, "{}", text.len());
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
