//! The chart of a figure: one bar per variant, drawn with plotters.

use plotters::prelude::*;

use external_tools::mdbook::Language;

use super::{pick, rate};
use crate::Record;

const RUST_COLOUR: RGBColor = RGBColor(0xd9, 0x5f, 0x02);
const PYTHON_COLOUR: RGBColor = RGBColor(0x30, 0x69, 0x98);
const BOUND_COLOUR: RGBColor = RGBColor(0x88, 0x88, 0x88);

/// A horizontal bar per variant, items per second on a log scale: Rust orange, Python
/// blue, the bound grey; the caption in `language`.
pub fn chart(workload: &str, records: &[Record], language: Language) -> anyhow::Result<String> {
    // Row 0 is drawn at the bottom: put the table's first record at the top.
    let n = records.len();
    let row = |i: usize| n - 1 - i;
    let labels: Vec<String> = records.iter().rev().map(Record::label).collect();
    let lowest = records.iter().map(|r| r.per_sec).fold(f64::MAX, f64::min);
    let highest = records.iter().map(|r| r.per_sec).fold(0.0, f64::max);
    anyhow::ensure!(
        !records.is_empty() && lowest > 0.0,
        "{workload}: nothing to plot"
    );
    let height = 70 + 26 * u32::try_from(n).unwrap_or(u32::MAX / 32);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (860, height)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!(
                    "{workload}: {}",
                    pick(
                        language,
                        "items per second (log scale)",
                        "毎秒の処理件数（対数目盛）"
                    )
                ),
                ("sans-serif", 18),
            )
            .margin(10)
            .x_label_area_size(28)
            .y_label_area_size(330)
            .build_cartesian_2d(
                (lowest / 2.0..highest * 3.0).log_scale(),
                (0..n).into_segmented(),
            )
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n + 1)
            .x_label_formatter(&|v| rate(*v))
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .y_label_style(("monospace", 12))
            .draw()
            .map_err(plot_error)?;
        chart
            .draw_series(records.iter().enumerate().map(|(i, record)| {
                let colour = if record.bound {
                    BOUND_COLOUR
                } else if record.is_python() {
                    PYTHON_COLOUR
                } else {
                    RUST_COLOUR
                };
                let mut bar = Rectangle::new(
                    [
                        (lowest / 2.0, SegmentValue::Exact(row(i))),
                        (record.per_sec, SegmentValue::Exact(row(i) + 1)),
                    ],
                    colour.filled(),
                );
                bar.set_margin(3, 3, 0, 0);
                bar
            }))
            .map_err(plot_error)?;
        chart
            .draw_series(records.iter().enumerate().map(|(i, record)| {
                Text::new(
                    format!(" {}/s", rate(record.per_sec)),
                    (record.per_sec, SegmentValue::CenterOf(row(i))),
                    ("sans-serif", 12),
                )
            }))
            .map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

fn plot_error<E: std::fmt::Debug>(error: E) -> anyhow::Error {
    anyhow::anyhow!("plotting failed: {error:?}")
}
