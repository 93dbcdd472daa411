use std::collections::{BTreeSet, HashMap};

use candle_core::quantized::GgmlDType;

use super::*;
use crate::model::ModelWeights;
use crate::testing;
use crate::tokenize::{Prefix, Tokenizer};

const TEXTS: [&str; 4] = ["hello world", "the world ab", "Hello, the b!", "cab 42"];

fn strings(t: &Tokenizer, text: &str, prefix: Prefix) -> Vec<String> {
    let ids = t.content_ids(text, prefix).expect("tokenizes");
    ids.iter()
        .map(|&id| t.inner().id_to_token(id).expect("known id"))
        .collect()
}

/// The control pieces, the minimum-score piece and the corpus pieces of `TEXTS`.
fn keep_for_texts(files: &ModelFiles) -> Result<BTreeSet<u32>> {
    let t = Tokenizer::from_model_files(files)?;
    let vocab = vocabulary(&files.tokenizer_json)?;
    let by_piece: HashMap<&str, u32> = vocab
        .iter()
        .enumerate()
        .map(|(i, (p, _))| (p.as_str(), i as u32))
        .collect();
    let mut keep: BTreeSet<u32> = [
        testing::BOS,
        testing::PAD,
        testing::EOS,
        testing::UNK,
        testing::mask_id(),
    ]
    .into();
    keep.extend(min_score_piece(&vocab));
    for text in TEXTS {
        for (s, prefix) in [
            (text.to_string(), Prefix::Passage),
            (text.to_string(), Prefix::Query),
            (text.to_lowercase(), Prefix::None),
        ] {
            let ids = t.content_ids(&s, prefix)?;
            corpus_pieces(&ids, &vocab, &by_piece, testing::UNK, &mut keep);
        }
    }
    Ok(keep)
}

fn info() -> PruneInfo {
    PruneInfo {
        languages: vec!["en".into()],
    }
}

#[test]
fn pruning_keeps_pieces_in_order_and_slices_rows_bit_for_bit() -> Result<()> {
    let files = testing::tiny_model_files(21);
    let keep = keep_for_texts(&files)?;
    assert!(keep.len() < testing::pieces().len(), "{}", keep.len());
    let pruned = prune_model(&files, &keep, &info())?;

    // Pieces and scores in their original order, ids = rank among the kept.
    let full_vocab = vocabulary(&files.tokenizer_json)?;
    let vocab = vocabulary(&pruned.tokenizer_json)?;
    let expected: Vec<(String, f64)> = keep
        .iter()
        .map(|&id| full_vocab[id as usize].clone())
        .collect();
    assert_eq!(vocab, expected);
    let c = &pruned.config;
    let rank = |old: u32| keep.iter().position(|&k| k == old).map(|p| p as u32);
    assert_eq!(Some(c.bos_id), rank(testing::BOS));
    assert_eq!(Some(c.eos_id), rank(testing::EOS));
    assert_eq!(Some(c.pad_id), rank(testing::PAD));
    assert_eq!(Some(c.unk_id), rank(testing::UNK));
    assert_eq!((c.vocab_pieces, c.embedding_rows), (keep.len(), keep.len()));
    assert!(c.name.contains("pruned: en"), "{}", c.name);
    assert_ne!(c.fingerprint(), pruned.parent.fingerprint());

    // Rows sliced bit for bit; every other tensor identical.
    let h = testing::HIDDEN;
    let mut full = ModelWeights::from_gguf(&files.gguf)?;
    let mut small = ModelWeights::from_gguf(&pruned.gguf)?;
    assert_eq!(small.config, pruned.config);
    let full_rows = full.take(
        TOKEN_EMBEDDINGS,
        &[testing::embedding_rows(), h],
        GgmlDType::Q4_0,
    )?;
    let small_rows = small.take(TOKEN_EMBEDDINGS, &[keep.len(), h], GgmlDType::Q4_0)?;
    let (full_rows, small_rows) = (full_rows.data()?, small_rows.data()?);
    let row = h / 32 * 18;
    for (new, &old) in keep.iter().enumerate() {
        let old = old as usize;
        assert_eq!(
            small_rows[new * row..(new + 1) * row],
            full_rows[old * row..(old + 1) * row],
            "row of piece {old}"
        );
    }
    for (name, shape) in [
        ("blk.0.attn_q.weight", [h, h]),
        ("blk.1.ffn_down.weight", [h, testing::INTERMEDIATE]),
    ] {
        let a = full.take(name, &shape, GgmlDType::Q4_0)?;
        let b = small.take(name, &shape, GgmlDType::Q4_0)?;
        assert_eq!(a.data()?, b.data()?, "{name}");
    }
    let record = read_prune_record(&pruned.gguf)?.expect("a pruning record");
    assert_eq!(record.0, "en");
    assert_eq!(record.2, hex(&pruned.parent.fingerprint()));
    assert_eq!(read_prune_record(&files.gguf)?, None);
    Ok(())
}

#[test]
fn corpus_texts_tokenize_and_embed_the_same_after_pruning() -> Result<()> {
    let files = testing::tiny_model_files(22);
    let keep = keep_for_texts(&files)?;
    let pruned = prune_model(&files, &keep, &info())?;
    let pruned_files = ModelFiles {
        gguf: pruned.gguf,
        tokenizer_json: pruned.tokenizer_json,
    };
    let full = Embedder::load(&files)?;
    let small = Embedder::load(&pruned_files)?;
    for text in TEXTS {
        for (s, prefix) in [
            (text.to_string(), Prefix::Passage),
            (text.to_string(), Prefix::Query),
            (text.to_lowercase(), Prefix::None),
        ] {
            assert_eq!(
                strings(small.tokenizer(), &s, prefix),
                strings(full.tokenizer(), &s, prefix),
                "{s:?} {prefix:?}"
            );
        }
        let a = full.embed_one(text, Prefix::Passage)?;
        let b = small.embed_one(text, Prefix::Passage)?;
        assert_eq!(a, b, "{text:?}");
    }
    // Text outside the kept pieces still tokenizes, with shorter pieces or <unk>.
    let other = strings(small.tokenizer(), "zzz query", Prefix::None);
    assert!(!other.is_empty());
    // The pruned model carries its own self-test, which the CPU passes.
    let stored = SelfTest::read(&pruned_files.gguf)?.expect("a self-test");
    let again = SelfTest::compute(&small)?;
    assert!(stored.check(&again.vectors).is_ok());
    Ok(())
}

#[test]
fn a_keep_set_without_control_pieces_or_with_foreign_ids_is_refused() -> Result<()> {
    let files = testing::tiny_model_files(23);
    let mut keep = keep_for_texts(&files)?;
    keep.remove(&testing::UNK);
    match prune_model(&files, &keep, &info()) {
        Err(Error::InvalidInput(msg)) => assert!(msg.contains("<unk>"), "{msg}"),
        other => panic!("expected InvalidInput, got {:?}", other.map(|p| p.config)),
    }
    let mut keep = keep_for_texts(&files)?;
    keep.insert(testing::pieces().len() as u32 + 5);
    assert!(matches!(
        prune_model(&files, &keep, &info()),
        Err(Error::InvalidInput(_))
    ));
    let mut other = testing::tiny_model_files(23);
    other.tokenizer_json.push(b' ');
    assert!(matches!(
        prune_model(&other, &keep_for_texts(&files)?, &info()),
        Err(Error::InvalidTokenizer(_))
    ));
    Ok(())
}

#[test]
fn names_show_languages_and_pieces() {
    let name = pruned_name("multilingual-e5-small", &["en".into(), "de".into()], 31204);
    assert_eq!(name, "multilingual-e5-small (pruned: en,de; 31,204 pieces)");
    assert_eq!(thousands(7), "7");
    assert_eq!(thousands(1000), "1,000");
    assert_eq!(thousands(250002), "250,002");
}
