//! Cross-lingual search in a few lines: index the English XQuAD-R paragraphs and
//! ask questions in Arabic, Hindi, Chinese and Greek. (Brute-force cosine for now;
//! the HNSW + BM25 index comes with the retrieval core.)
//!
//! ```text
//! cargo run --release -p xling-model --example xquad_demo -- \
//!     --model models/multilingual-e5-small-q4 --data ../shared/data/xquad-r
//! ```

use std::path::PathBuf;
use std::time::Instant;

use xling_model::{Embedder, ModelFiles, Prefix};

/// (language, number of the question in that file) pairs to ask.
const QUESTIONS: [(&str, usize); 8] = [
    ("ar", 0),
    ("ar", 400),
    ("hi", 30),
    ("hi", 700),
    ("zh", 120),
    ("zh", 900),
    ("el", 250),
    ("el", 1100),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut model = PathBuf::from("models/multilingual-e5-small-q4");
    let mut data = PathBuf::from("../shared/data/xquad-r");
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--model" => model = value.into(),
            "--data" => data = value.into(),
            _ => return Err(format!("unknown flag {flag}").into()),
        }
    }

    let embedder = Embedder::load(&ModelFiles::read_dir(&model)?)?;
    let (paragraphs, _) = read_xquad(&data.join("en.json"))?;
    let start = Instant::now();
    let vectors = embedder.embed(&paragraphs, Prefix::Passage)?;
    println!(
        "Indexed {} English paragraphs in {:.1} s.\n",
        paragraphs.len(),
        start.elapsed().as_secs_f64()
    );

    for (lang, n) in QUESTIONS {
        let (_, questions) = read_xquad(&data.join(format!("{lang}.json")))?;
        let Some((question, answer_paragraph)) = questions.get(n) else {
            continue;
        };
        let q = embedder.embed_one(question, Prefix::Query)?;
        let mut scored: Vec<(f32, usize)> = vectors
            .iter()
            .enumerate()
            .map(|(i, v)| (v.iter().zip(&q).map(|(a, b)| a * b).sum(), i))
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        println!("[{lang}] {question}");
        for (rank, (score, i)) in scored.iter().take(3).enumerate() {
            let mark = if i == answer_paragraph { "✓" } else { " " };
            let snippet: String = paragraphs[*i].chars().take(110).collect();
            println!("  {mark} {}. {score:.3}  {snippet}…", rank + 1);
        }
        println!();
    }
    Ok(())
}

/// Paragraph texts, and (question, index of its paragraph) pairs, in file order.
/// XQuAD-R files are parallel, so paragraph indices agree across languages.
type Xquad = (Vec<String>, Vec<(String, usize)>);

fn read_xquad(path: &std::path::Path) -> Result<Xquad, Box<dyn std::error::Error>> {
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(path)?)?;
    let mut paragraphs = Vec::new();
    let mut questions = Vec::new();
    for article in doc["data"].as_array().ok_or("no data array")? {
        for p in article["paragraphs"].as_array().ok_or("no paragraphs")? {
            let index = paragraphs.len();
            paragraphs.push(p["context"].as_str().unwrap_or_default().to_owned());
            for qa in p["qas"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                if let Some(q) = qa["question"].as_str() {
                    questions.push((q.to_owned(), index));
                }
            }
        }
    }
    Ok((paragraphs, questions))
}
