from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("deployments", "0007_deployment_deployed_run"),
    ]

    operations = [
        migrations.AddField(
            model_name="artifact",
            name="checks_seal",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
        ),
    ]
