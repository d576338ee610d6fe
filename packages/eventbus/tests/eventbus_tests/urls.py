"""URLs of the bus's tests: the admin, with the bus's pages in it."""

from django.contrib import admin
from django.urls import path

urlpatterns = [path("admin/", admin.site.urls)]
