from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from refuge.insights.charts import num

register = template.Library()


@register.filter
def fig(value):
    """A published figure: hidden ones as a mark that screen readers read as "hidden"."""
    if value is None:
        return format_html(
            '<span class="ins-x" title="{}"><span aria-hidden="true">×</span>'
            '<span class="visually-hidden">{}</span></span>',
            _("hidden so that small counts cannot be worked out"),
            _("hidden"),
        )
    return value


@register.filter
def pct1(value):
    return "—" if value is None else f"{num(100 * value)}%"


@register.filter
def pp(value):
    """A difference of two shares, in percentage points."""
    if value is None:
        return "—"
    return _("%(v)s pp") % {"v": num(100 * value)}
