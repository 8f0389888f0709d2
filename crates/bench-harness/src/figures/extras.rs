//! The columns a figure shows only when some record of its workload has them: requests in
//! flight, server connections, memory, CPU per item, latency, idle connections, titles.

use external_tools::mdbook::Language;

use super::pick;
use crate::Record;

/// The optional columns some workloads record.
pub(super) struct Extras {
    in_flight: bool,
    pub(super) connections: bool,
    rss: bool,
    cpu: bool,
    server_cpu: bool,
    latency: bool,
    idle: bool,
    titles: bool,
}

impl Extras {
    pub(super) fn of(records: &[Record]) -> Self {
        let any = |f: fn(&Record) -> bool| records.iter().any(f);
        Self {
            in_flight: any(|r| r.max_in_flight.is_some()),
            connections: any(|r| r.server_connections.is_some()),
            rss: any(|r| r.peak_rss_mib.is_some()),
            cpu: any(|r| r.cpu_us_per_item.is_some()),
            server_cpu: any(|r| r.server_cpu_us_per_item.is_some()),
            latency: any(|r| r.p50_ms.is_some()),
            idle: any(|r| r.kib_per_idle_connection.is_some()),
            titles: any(|r| r.titles_match.is_some()),
        }
    }

    pub(super) fn names(&self, language: Language) -> Vec<&'static str> {
        [
            (self.in_flight, "max in flight", "最大同時実行数"),
            (self.connections, "conn&shy;ections", "接続数"),
            (self.rss, "peak RSS MiB", "ピーク RSS MiB"),
            (self.cpu, "client CPU µs/item", "クライアント CPU µs/件"),
            (self.server_cpu, "server CPU µs/item", "サーバー CPU µs/件"),
            (self.latency, "p50 ms", "p50 ms"),
            (self.latency, "p99 ms", "p99 ms"),
            (
                self.idle,
                "KiB per idle conn&shy;ection",
                "待機接続あたり KiB",
            ),
            (self.titles, "same titles", "タイトル一致"),
        ]
        .into_iter()
        .filter(|(shown, _, _)| *shown)
        .map(|(_, english, japanese)| pick(language, english, japanese))
        .collect()
    }

    pub(super) fn cells(&self, r: &Record) -> String {
        let mut cells = String::new();
        let mut push = |shown: bool, value: Option<String>| {
            if shown {
                cells.push_str(&format!(" {} |", value.unwrap_or_default()));
            }
        };
        push(self.in_flight, r.max_in_flight.map(|n| n.to_string()));
        push(
            self.connections,
            r.server_connections.map(|n| n.to_string()),
        );
        push(self.rss, r.peak_rss_mib.map(|m| format!("{m:.1}")));
        push(self.cpu, r.cpu_us_per_item.map(|c| format!("{c:.1}")));
        push(
            self.server_cpu,
            r.server_cpu_us_per_item.map(|c| format!("{c:.2}")),
        );
        push(self.latency, r.p50_ms.map(|m| format!("{m:.2}")));
        push(self.latency, r.p99_ms.map(|m| format!("{m:.2}")));
        push(
            self.idle,
            r.kib_per_idle_connection.map(|k| format!("{k:.1}")),
        );
        push(self.titles, r.titles_match.map(|t| t.to_string()));
        cells
    }
}
