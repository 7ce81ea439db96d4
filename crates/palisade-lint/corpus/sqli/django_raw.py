# expect: CWE-89
from django.http import JsonResponse
from .models import Person

def people(request):
    last = request.GET.get("last")
    rows = Person.objects.raw("SELECT * FROM person WHERE last = '%s'" % last)
    return JsonResponse({"n": len(list(rows))})
