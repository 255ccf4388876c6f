"""Study versions: version 1 of every existing study is its current spec, and its
participants are taken to have enrolled under it (their own ``spec_hash`` is kept as recorded).
Their YAML as first written was never stored, so version 1's source is the spec dumped."""

import django.db.models.deletion
import django.utils.timezone
import yaml
from django.conf import settings
from django.db import migrations, models


def first_versions(apps, schema_editor):
    Study = apps.get_model("studyapp", "Study")
    StudyVersion = apps.get_model("studyapp", "StudyVersion")
    Participant = apps.get_model("studyapp", "Participant")
    for study in Study.objects.all():
        version = StudyVersion.objects.create(
            study=study, number=1, spec=study.spec, spec_hash=study.spec_hash,
            source_text=yaml.safe_dump(study.spec, sort_keys=False, allow_unicode=True,
                                       width=100), created_at=study.created_at)
        Participant.objects.filter(study=study).update(version=version)


class Migration(migrations.Migration):

    dependencies = [
        ('studyapp', '0014_trial_practice'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='StudyVersion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.PositiveIntegerField()),
                ('spec', models.JSONField()),
                ('spec_hash', models.CharField(max_length=64)),
                ('source_text', models.TextField()),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('study', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='versions', to='studyapp.study')),
            ],
            options={
                'ordering': ['study', 'number'],
            },
        ),
        migrations.AddField(
            model_name='participant',
            name='version',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='participants', to='studyapp.studyversion'),
        ),
        migrations.AddConstraint(
            model_name='studyversion',
            constraint=models.UniqueConstraint(fields=('study', 'number'), name='one_version_number_per_study'),
        ),
        migrations.RunPython(first_versions, migrations.RunPython.noop),
    ]
