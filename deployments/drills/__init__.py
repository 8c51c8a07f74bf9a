"""Recovery drills: rebuild every deployed environment elsewhere, and measure how close it comes.

A drill recreates the deployed version of each selected environment (`Deployment.deployed_artifact`)
into a fresh, separate local cloud started for the drill alone (its own root and server process,
never the live one), with real Terraform in the sandbox and a state of its own that never touches
the live state. It then compares what it built with the live cloud, per environment: resources,
table schemas, labels and IAM bindings, and reports per environment whether it was recreated, how
long it took and whether the result matches (with the differences). The drill cloud is destroyed
afterwards whatever happens. A drill holds no deployment slot and no state lock.

`services` holds the logic (shared by the management command `recovery_drill`, the Celery task and
the Operations page's button); `compare` the inventory comparison; `tasks` and `views` are thin.
See docs/drift.md, *Recovery drill*."""
