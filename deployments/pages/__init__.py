"""The project's deployment tabs: Deploy, the deployments table with each row's History,
and Configuration. They read the other rooms and start runs through `runs.services`."""
