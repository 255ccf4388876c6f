from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('studyapp', '0007_new_designs'),
    ]

    operations = [
        migrations.AddField(
            model_name='condition',
            name='explanation_wording',
            field=models.CharField(choices=[('plain', 'Plain (probability scale, for participants)'), ('technical', "Technical (the method's own units)")], default='plain', max_length=12),
        ),
        migrations.AddField(
            model_name='condition',
            name='model_variant',
            field=models.CharField(blank=True, max_length=32),
        ),
    ]
