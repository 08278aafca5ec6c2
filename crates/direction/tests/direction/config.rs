//! Configs: TOML tables with documented defaults, unknown keys rejected, errors naming the
//! field.

use stepsharp_direction::{
    AdamConfig, BiasCorrection, DirectionConfig, DirectionError, MomentumConfig, NonDescentAction,
    NonDescentPolicy,
};

#[derive(serde::Deserialize)]
struct Run {
    direction: DirectionConfig,
}

fn parse(toml: &str) -> Result<DirectionConfig, toml::de::Error> {
    toml::from_str::<Run>(toml).map(|run| run.direction)
}

#[test]
fn every_kind_parses_from_a_toml_table() {
    assert_eq!(
        parse(r#"direction = { kind = "gradient_descent" }"#).unwrap(),
        DirectionConfig::GradientDescent
    );
    assert_eq!(
        parse(r#"direction = { kind = "heavy_ball", beta = 0.5 }"#).unwrap(),
        DirectionConfig::HeavyBall(MomentumConfig {
            beta: 0.5,
            ..MomentumConfig::default()
        })
    );
    assert_eq!(
        parse(r#"direction = { kind = "nesterov" }"#).unwrap(),
        DirectionConfig::Nesterov(MomentumConfig::default())
    );
    let adam = parse(
        r#"direction = { kind = "adam", beta1 = 0.9, beta2 = 0.999, eps = 1e-8,
           bias_correction = "none", non_descent = { armijo = "proceed" } }"#,
    )
    .unwrap();
    assert_eq!(
        adam,
        DirectionConfig::Adam(AdamConfig {
            bias_correction: BiasCorrection::None,
            non_descent: NonDescentPolicy {
                armijo: NonDescentAction::Proceed,
                ..NonDescentPolicy::default()
            },
            ..AdamConfig::default()
        })
    );
}

#[test]
fn the_defaults_are_the_published_constants() {
    assert_eq!(DirectionConfig::default(), DirectionConfig::GradientDescent);
    assert_eq!(MomentumConfig::default().beta, 0.9);
    let adam = AdamConfig::default();
    assert_eq!((adam.beta1, adam.beta2, adam.eps), (0.9, 0.999, 1e-8));
    assert_eq!(adam.bias_correction, BiasCorrection::Both);
}

#[test]
fn unknown_keys_and_kinds_are_rejected() {
    let typo = parse(r#"direction = { kind = "adam", beta_1 = 0.9 }"#).unwrap_err();
    assert!(typo.to_string().contains("beta_1"), "{typo}");
    let kind = parse(r#"direction = { kind = "adagrad" }"#).unwrap_err();
    assert!(kind.to_string().contains("adagrad"), "{kind}");
    let action = parse(r#"direction = { kind = "nesterov", non_descent = { polyak = "skip" } }"#)
        .unwrap_err();
    assert!(action.to_string().contains("skip"), "{action}");
}

#[track_caller]
fn invalid_field(config: DirectionConfig) -> &'static str {
    match config.validate() {
        Err(DirectionError::InvalidConfig { field, .. }) => field,
        other => panic!("expected an invalid field, got {other:?}"),
    }
}

#[test]
fn validation_names_the_field() {
    let momentum = |beta| MomentumConfig {
        beta,
        ..MomentumConfig::default()
    };
    assert_eq!(
        invalid_field(DirectionConfig::HeavyBall(momentum(1.0))),
        "heavy_ball.beta"
    );
    assert_eq!(
        invalid_field(DirectionConfig::Nesterov(momentum(-0.1))),
        "nesterov.beta"
    );
    let adam = |change: fn(&mut AdamConfig)| {
        let mut config = AdamConfig::default();
        change(&mut config);
        DirectionConfig::Adam(config)
    };
    assert_eq!(invalid_field(adam(|c| c.beta1 = 1.0)), "adam.beta1");
    assert_eq!(invalid_field(adam(|c| c.beta2 = 1.5)), "adam.beta2");
    assert_eq!(invalid_field(adam(|c| c.beta2 = 1.0)), "adam.beta2");
    assert_eq!(invalid_field(adam(|c| c.eps = -1e-8)), "adam.eps");
    assert_eq!(invalid_field(adam(|c| c.eps = f64::NAN)), "adam.eps");
    let frozen = adam(|c| {
        c.beta2 = 1.0;
        c.bias_correction = BiasCorrection::None;
    });
    assert!(frozen.validate().is_ok());
    assert!(
        DirectionConfig::Adam(AdamConfig::default())
            .validate()
            .is_ok()
    );
}

#[test]
fn configs_round_trip_through_json() {
    for config in [
        DirectionConfig::GradientDescent,
        DirectionConfig::HeavyBall(MomentumConfig::default()),
        DirectionConfig::Nesterov(MomentumConfig::default()),
        DirectionConfig::Adam(AdamConfig::default()),
    ] {
        let json = serde_json::to_string(&config).unwrap();
        assert!(
            json.contains(&format!(r#""kind":"{}""#, config.name())),
            "{json}"
        );
        assert_eq!(
            serde_json::from_str::<DirectionConfig>(&json).unwrap(),
            config
        );
    }
}
