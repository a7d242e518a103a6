"""``{% load names %}``: regions, countries and languages by name in the reader's language."""

from django import template

from refuge.directory.pickers import country_label, language_label, region_label, region_labels

register = template.Library()
register.filter("region_name", region_label)
register.filter("country_name", country_label)
register.filter("language_name", language_label)
register.filter("region_names", region_labels)


@register.filter
def area_names(area: str) -> str:
    """A stored comma-separated list of region or country codes, by name."""
    return region_labels(c.strip() for c in (area or "").split(","))
