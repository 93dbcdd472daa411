//! Per-language bar charts as SVG, for the evaluation reports.
//!
//! Plotters is built without a font engine (no `ttf`/`ab_glyph`): its SVG
//! backend writes `<text>` elements and lets the viewer render them, and text
//! widths are only estimated for layout. That is why the label areas below
//! are sized from character counts.

use anyhow::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontTransform;

/// One colour per series: matplotlib's "tab10", familiar from papers.
const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// Pixels per bar, so that 112 languages stay readable: the chart widens
/// instead of squeezing the bars.
const BAR_PX: u32 = 10;
/// Space between two language groups.
const GROUP_GAP_PX: u32 = 8;
const HEIGHT_PX: u32 = 600;
const MIN_WIDTH_PX: u32 = 800;
const LEFT_AREA_PX: u32 = 70;
const RIGHT_MARGIN_PX: u32 = 20;
const LEGEND_ROW_PX: u32 = 24;
/// Plotters writes `font-size` as this / 1.24, so 15 gives about 12 px.
const LABEL_FONT_PX: f64 = 15.0;

/// Grouped bar chart: one group per language (in order of first appearance
/// across the series), one bar per series, a legend naming the series.
///
/// The y axis runs from 0 (or the smallest value, if negative) to 1 (or the
/// largest value, if above 1), so scores on [0, 1] read on a fixed scale.
/// Non-finite values and languages a series lacks get no bar.
pub fn bar_chart_svg(
    title: &str,
    y_label: &str,
    series: &[(&str, Vec<(String, f64)>)],
) -> Result<String> {
    let mut languages: Vec<&str> = Vec::new();
    for (_, values) in series {
        for (lang, _) in values {
            if !languages.contains(&lang.as_str()) {
                languages.push(lang);
            }
        }
    }
    let finite = || {
        series
            .iter()
            .flat_map(|(_, v)| v.iter().map(|(_, x)| *x))
            .filter(|x| x.is_finite())
    };
    let y_min = finite().fold(0.0_f64, f64::min);
    let y_max = finite().fold(1.0_f64, f64::max);

    let groups = languages.len().max(1) as u32;
    let bars = series.len().max(1) as u32;
    let group_px = bars * BAR_PX + GROUP_GAP_PX;
    let width = (LEFT_AREA_PX + groups * group_px + RIGHT_MARGIN_PX).max(MIN_WIDTH_PX);
    // Rotated labels hang below the axis; leave room for the longest one.
    let longest = languages
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0) as u32;
    let bottom_px = 30 + longest * (LABEL_FONT_PX as u32 * 7 / 10);

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, HEIGHT_PX)).into_drawing_area();
        root.fill(&WHITE)?;
        let body = root.titled(title, ("sans-serif", 20))?;
        // The legend gets its own row above the plot, so it never hides a bar.
        let (legend_row, plot) = body.split_vertically(LEGEND_ROW_PX);
        let legend_style = ("sans-serif", LABEL_FONT_PX)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center));
        let mut x = LEFT_AREA_PX as i32 + 10;
        let mid = LEGEND_ROW_PX as i32 / 2;
        for (s, (name, _)) in series.iter().enumerate() {
            let color = PALETTE[s % PALETTE.len()];
            legend_row.draw(&Rectangle::new(
                [(x, mid - 6), (x + 12, mid + 6)],
                color.filled(),
            ))?;
            legend_row.draw(&Text::new(
                name.to_string(),
                (x + 18, mid),
                legend_style.clone(),
            ))?;
            let name_px = i32::try_from(name.chars().count()).unwrap_or(i32::MAX / 16) * 8;
            x = x.saturating_add(18 + name_px + 24);
        }

        let mut chart = ChartBuilder::on(&plot)
            .margin(10)
            .margin_right(RIGHT_MARGIN_PX)
            .x_label_area_size(bottom_px)
            .y_label_area_size(LEFT_AREA_PX)
            .build_cartesian_2d(0.0..groups as f64, y_min..y_max)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_desc(y_label)
            .label_style(("sans-serif", LABEL_FONT_PX))
            .axis_desc_style(("sans-serif", LABEL_FONT_PX))
            .y_label_formatter(&|y| format!("{y:.2}"))
            .draw()?;

        let slot = 1.0 / group_px as f64;
        for (s, (_, values)) in series.iter().enumerate() {
            let color = PALETTE[s % PALETTE.len()];
            let rects = values.iter().filter_map(|(lang, value)| {
                let group = languages.iter().position(|l| l == lang)?;
                if !value.is_finite() {
                    return None;
                }
                let x0 =
                    group as f64 + slot * (GROUP_GAP_PX as f64 / 2.0 + (s as u32 * BAR_PX) as f64);
                let x1 = x0 + slot * BAR_PX as f64;
                Some(Rectangle::new([(x0, 0.0), (x1, *value)], color.filled()))
            });
            chart.draw_series(rects)?;
        }

        // Language names under each group, turned 90° so they do not overlap.
        let label_style = ("sans-serif", LABEL_FONT_PX)
            .into_font()
            .transform(FontTransform::Rotate90)
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center));
        for (i, lang) in languages.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(i as f64 + 0.5, y_min));
            root.draw(&Text::new(
                lang.to_string(),
                (x, y + 6),
                label_style.clone(),
            ))?;
        }
        root.present()?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(langs: &[&str], f: impl Fn(usize) -> f64) -> Vec<(String, f64)> {
        langs
            .iter()
            .enumerate()
            .map(|(i, l)| (l.to_string(), f(i)))
            .collect()
    }

    #[test]
    fn draws_titles_labels_and_bars() {
        let langs = ["deu", "fra", "ara"];
        let svg = bar_chart_svg(
            "Tatoeba accuracy",
            "accuracy",
            &[
                ("dense", series(&langs, |i| 0.9 - 0.1 * i as f64)),
                ("lexical", series(&langs[..2], |_| 0.5)),
            ],
        )
        .expect("draws");
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(100)]);
        assert!(svg.trim_end().ends_with("</svg>"));
        for text in [
            "Tatoeba accuracy",
            "accuracy",
            "dense",
            "lexical",
            "deu",
            "fra",
            "ara",
        ] {
            assert!(
                svg.contains(&format!(">\n{text}\n</text>")),
                "missing {text}"
            );
        }
        assert!(svg.contains("rotate(90"), "language labels are rotated");
        // Five bars in two colours (plus the two legend swatches).
        assert_eq!(svg.matches("fill=\"#1F77B4\"").count(), 3 + 1);
        assert_eq!(svg.matches("fill=\"#FF7F0E\"").count(), 2 + 1);
    }

    #[test]
    fn many_languages_make_a_wide_chart() {
        let langs: Vec<String> = (0..112).map(|i| format!("l{i:03}")).collect();
        let names: Vec<&str> = langs.iter().map(String::as_str).collect();
        let svg = bar_chart_svg(
            "112",
            "score",
            &[
                ("dense", series(&names, |i| i as f64 / 112.0)),
                ("hybrid", series(&names, |_| 0.5)),
            ],
        )
        .expect("draws");
        for l in &langs {
            assert!(svg.contains(&format!(">\n{l}\n</text>")), "missing {l}");
        }
        let width: u32 = svg
            .split("width=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .and_then(|w| w.parse().ok())
            .expect("an svg width");
        assert!(width >= 112 * 2 * BAR_PX, "width {width}");
    }

    #[test]
    fn odd_input_does_not_fail() {
        // Nothing to draw, strange values, markup in names: still an SVG.
        for svg in [
            bar_chart_svg("empty", "y", &[]),
            bar_chart_svg("no values", "y", &[("dense", vec![])]),
            bar_chart_svg(
                "a < b & c",
                "y",
                &[(
                    "<s>",
                    vec![
                        ("nan".into(), f64::NAN),
                        ("inf".into(), f64::INFINITY),
                        ("neg".into(), -0.5),
                        ("big".into(), 3.0),
                        ("".into(), 0.2),
                    ],
                )],
            ),
        ] {
            let svg = svg.expect("draws");
            assert!(svg.starts_with("<svg"));
        }
        let svg =
            bar_chart_svg("a < b & c", "y", &[("<s>", vec![("x".into(), 0.5)])]).expect("draws");
        assert!(svg.contains("a &lt; b &amp; c") && svg.contains("&lt;s&gt;"));
    }
}
