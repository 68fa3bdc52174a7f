//! Values nested deeper than a decoder goes: refused as an error, never a stack overflow
//! that aborts the process, whatever bytes a shared store holds.

use jwm_cache::codec::{Json, Postcard, PostcardError, Serializer, Stamped, StampedError};

/// A recursive value type: each `Cons` one level deeper.
#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
enum List {
    Nil,
    Cons(u32, Box<List>),
}

/// A list of `len` ones.
fn list(len: usize) -> List {
    (0..len).fold(List::Nil, |tail, _| List::Cons(1, Box::new(tail)))
}

/// The postcard bytes of `list(len)`, without building it: `Cons` is variant 1, then
/// the one, and `Nil` is variant 0.
fn list_bytes(len: usize) -> Vec<u8> {
    let mut bytes = [1, 1].repeat(len);
    bytes.push(0);
    bytes
}

/// On a thread with a tokio worker's stack (2 MiB), in this unoptimised build.
fn on_a_worker_stack(test: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(test)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn postcard_decodes_to_its_depth_limit_and_refuses_deeper_bytes_without_overflowing() {
    on_a_worker_stack(|| {
        let decode = |bytes: &[u8]| Serializer::<List>::decode(&Postcard, &bytes.to_vec());
        assert_eq!(Postcard::MOST_DEPTH, 256);
        let deepest = list(255);
        assert_eq!(
            Serializer::encode(&Postcard, &deepest).unwrap(),
            list_bytes(255)
        );
        assert_eq!(
            decode(&list_bytes(255)),
            Ok(deepest),
            "255 Cons and the Nil"
        );
        assert_eq!(decode(&list_bytes(256)), Err(PostcardError::TooDeep));
        // Planted bytes a million levels deep: refused at the limit, where postcard alone
        // would overflow this stack (and abort the process).
        let planted = list_bytes(1_000_000);
        assert_eq!(decode(&planted), Err(PostcardError::TooDeep));
        // Behind a header too, and JSON stops at serde_json's own limit.
        let stamped = Stamped::<_, u8>::new(Postcard);
        let header = Serializer::<List>::encode(&stamped, &List::Nil).unwrap();
        let header = &header.as_bytes()[..jwm_cache::backend::HEADER_LEN];
        let planted =
            jwm_cache::codec::StampedBytes::<u8>::from_stored([header, &planted].concat());
        assert_eq!(
            Serializer::<List>::decode(&stamped, &planted),
            Err(StampedError::Codec(PostcardError::TooDeep))
        );
        let json = [
            r#"{"Cons":[1,"#.repeat(1_000_000),
            r#""Nil""#.into(),
            "]}".repeat(1_000_000),
        ]
        .concat()
        .into_bytes();
        assert!(Serializer::<List>::decode(&Json, &json).is_err());
    });
}

/// Values deeper than the limit still encode; a newtype and an `Option` count a level
/// each, as an enum does.
#[test]
fn postcard_counts_newtypes_and_options_and_deeper_values_still_encode() {
    type Nested = Option<Vec<(u8, std::collections::BTreeMap<String, Option<String>>)>>;
    let value: Nested = Some(vec![(7, [("k".into(), Some("v".into()))].into())]);
    let bytes = Serializer::encode(&Postcard, &value).unwrap();
    assert_eq!(Serializer::<Nested>::decode(&Postcard, &bytes), Ok(value));
    on_a_worker_stack(|| {
        // A newtype around an `Option`: two levels each. The bytes are one tag per
        // `Option` (1 for `Some`), as a newtype adds none.
        #[derive(Debug, serde::Serialize, serde::Deserialize)]
        struct Deeper(Option<Box<Deeper>>);
        let mut deep: Vec<u8> = vec![1; 127];
        deep.push(0);
        assert!(Serializer::<Deeper>::decode(&Postcard, &deep).is_ok());
        deep.insert(0, 1);
        assert_eq!(
            Serializer::<Deeper>::decode(&Postcard, &deep).unwrap_err(),
            PostcardError::TooDeep
        );
        let too_deep = list(300);
        let bytes = Serializer::encode(&Postcard, &too_deep).unwrap();
        assert_eq!(
            Serializer::<List>::decode(&Postcard, &bytes),
            Err(PostcardError::TooDeep)
        );
    });
}
