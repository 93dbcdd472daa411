//! Every report as one table of figures — rows are languages (or data sets),
//! columns are measures — so `xling eval` prints the worst row beside each
//! mean and compares two runs cell by cell. A mean alone hides the group a
//! change costs.

use crate::error::{RunError, RunResult};

/// One run's figures.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Figures {
    /// What was measured (printed above the tables).
    pub title: String,
    /// Measure names, one per column.
    pub columns: Vec<String>,
    /// Row name and one value per column (`NaN` where the row has none).
    pub rows: Vec<(String, Vec<f64>)>,
    /// Headline figures that are not a plain mean of the rows (X-Y over all
    /// questions, En-En), by name.
    pub headline: Vec<(String, f64)>,
}

/// A column's mean and its worst row.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnSummary {
    /// Mean over the rows that have a value.
    pub mean: f64,
    /// The row with the lowest value, and that value.
    pub worst: Option<(String, f64)>,
}

impl Figures {
    /// Mean and worst row of column `c`.
    pub fn summary(&self, c: usize) -> ColumnSummary {
        let values: Vec<(&str, f64)> = self
            .rows
            .iter()
            .filter_map(|(name, v)| {
                v.get(c)
                    .filter(|x| !x.is_nan())
                    .map(|x| (name.as_str(), *x))
            })
            .collect();
        let mean = values.iter().map(|(_, x)| x).sum::<f64>() / values.len().max(1) as f64;
        let worst = values
            .iter()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(n, x)| (n.to_string(), *x));
        ColumnSummary {
            mean: if values.is_empty() { f64::NAN } else { mean },
            worst,
        }
    }
}

/// Two runs on the same data, cell by cell (`b − a`).
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Measure names.
    pub columns: Vec<String>,
    /// Row name and, per column, the values of run A and run B.
    pub rows: Vec<(String, Vec<(f64, f64)>)>,
    /// Headline figures of both runs.
    pub headline: Vec<(String, f64, f64)>,
}

/// How one column changed from run A to run B.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnChange {
    /// Mean of A's rows and of B's rows.
    pub mean: (f64, f64),
    /// The row that lost most (most negative `b − a`), and by how much.
    pub worst: Option<(String, f64)>,
    /// The row that gained most.
    pub best: Option<(String, f64)>,
    /// Rows where B is below A by more than `tolerance`.
    pub losses: usize,
    /// Rows with both values.
    pub rows: usize,
}

impl Comparison {
    /// Matches `a`'s and `b`'s rows by name; the runs must have the same
    /// measures and rows (the same data, other options).
    pub fn new(a: &Figures, b: &Figures) -> RunResult<Self> {
        if a.columns != b.columns {
            return Err(RunError::Invalid(format!(
                "cannot compare runs with different measures ({:?} and {:?})",
                a.columns, b.columns
            )));
        }
        let mut rows = Vec::with_capacity(a.rows.len());
        for (name, va) in &a.rows {
            let vb = b
                .rows
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v)
                .ok_or_else(|| {
                    RunError::Invalid(format!("row {name:?} is missing from the second run"))
                })?;
            rows.push((
                name.clone(),
                va.iter().copied().zip(vb.iter().copied()).collect(),
            ));
        }
        let headline = a
            .headline
            .iter()
            .filter_map(|(n, x)| {
                let y = b.headline.iter().find(|(m, _)| m == n)?.1;
                Some((n.clone(), *x, y))
            })
            .collect();
        Ok(Self {
            columns: a.columns.clone(),
            rows,
            headline,
        })
    }

    /// The change of column `c`; a row loses when `b < a − tolerance`.
    pub fn change(&self, c: usize, tolerance: f64) -> ColumnChange {
        let pairs: Vec<(&str, f64, f64)> = self
            .rows
            .iter()
            .filter_map(|(n, v)| {
                let (x, y) = *v.get(c)?;
                (!x.is_nan() && !y.is_nan()).then_some((n.as_str(), x, y))
            })
            .collect();
        let n = pairs.len().max(1) as f64;
        let mean = (
            pairs.iter().map(|p| p.1).sum::<f64>() / n,
            pairs.iter().map(|p| p.2).sum::<f64>() / n,
        );
        let delta = |p: &(&str, f64, f64)| p.2 - p.1;
        let worst = pairs
            .iter()
            .min_by(|a, b| delta(a).total_cmp(&delta(b)))
            .map(|p| (p.0.to_string(), delta(p)));
        let best = pairs
            .iter()
            .max_by(|a, b| delta(a).total_cmp(&delta(b)))
            .map(|p| (p.0.to_string(), delta(p)));
        ColumnChange {
            mean,
            worst,
            best,
            losses: pairs.iter().filter(|p| delta(p) < -tolerance).count(),
            rows: pairs.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(rows: &[(&str, f64, f64)]) -> Figures {
        Figures {
            title: "t".into(),
            columns: vec!["a".into(), "b".into()],
            rows: rows
                .iter()
                .map(|(n, x, y)| (n.to_string(), vec![*x, *y]))
                .collect(),
            headline: vec![("all".into(), 0.5)],
        }
    }

    #[test]
    fn summary_names_the_worst_row_and_skips_missing_values() {
        let f = figures(&[("de", 0.9, f64::NAN), ("hi", 0.6, 0.7), ("sw", 0.8, 0.5)]);
        let s = f.summary(0);
        assert!((s.mean - (0.9 + 0.6 + 0.8) / 3.0).abs() < 1e-12);
        assert_eq!(s.worst, Some(("hi".to_string(), 0.6)));
        let s = f.summary(1);
        assert!((s.mean - 0.6).abs() < 1e-12);
        assert_eq!(s.worst, Some(("sw".to_string(), 0.5)));
    }

    #[test]
    fn comparison_reports_the_row_that_lost_most() {
        let a = figures(&[("de", 0.9, 0.9), ("hi", 0.6, 0.7), ("sw", 0.8, 0.5)]);
        let b = figures(&[("sw", 0.84, 0.5), ("de", 0.95, 0.9), ("hi", 0.5, 0.7)]);
        let c = Comparison::new(&a, &b).unwrap();
        let ch = c.change(0, 1e-9);
        assert_eq!(ch.worst.as_ref().map(|w| w.0.as_str()), Some("hi"));
        assert!((ch.worst.unwrap().1 + 0.1).abs() < 1e-9);
        assert_eq!(ch.best.map(|w| w.0), Some("de".to_string()));
        assert_eq!((ch.losses, ch.rows), (1, 3));
        assert_eq!(c.change(1, 1e-9).losses, 0);
        assert_eq!(c.headline, vec![("all".to_string(), 0.5, 0.5)]);
    }

    #[test]
    fn comparison_refuses_different_rows_or_measures() {
        let a = figures(&[("de", 0.9, 0.9)]);
        let b = figures(&[("fr", 0.9, 0.9)]);
        assert!(Comparison::new(&a, &b).is_err());
        let mut c = figures(&[("de", 0.9, 0.9)]);
        c.columns[1] = "x".into();
        assert!(Comparison::new(&a, &c).is_err());
    }
}
