from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("deployments", "0008_saved_plans"),
    ]

    operations = [
        migrations.AddField(
            model_name="artifact",
            name="checks_seal",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
        ),
    ]
