"""The Managed Shared Composer: one Airflow environment per stage that projects join.

The platform project is an ordinary Hangar project whose definition Hangar generates;
`services` onboards and offboards members (a change = a platform artifact + its runs,
promoted stage by stage), `receivers` follows those runs, `adoption` computes the
figures, `views` and `urls` serve the wizard and pages. See docs/shared-composer.md."""
