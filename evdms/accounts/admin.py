"""Django admin for platform operators: organisations, grants, users, admins, keys."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from evdms.accounts.models import Admin, ApiKey, Grant, Organisation, User


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "kind", "currency", "created_at")
    list_filter = ("kind",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Grant)
class GrantAdmin(admin.ModelAdmin):
    list_display = ("grantor", "grantee", "created_at", "revoked_at")
    list_select_related = ("grantor", "grantee")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("email",)
    list_display = ("email", "full_name", "is_active", "is_staff", "last_login")
    search_fields = ("email", "full_name")
    list_filter = ("is_staff", "is_active")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("full_name",)}),
        ("Platform", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),
    )
    filter_horizontal = ("groups",)


@admin.register(Admin)
class AdminAccountAdmin(admin.ModelAdmin):
    list_display = ("email", "user", "organisation", "role", "status", "created_at")
    list_filter = ("role", "status")
    list_select_related = ("user", "organisation")
    search_fields = ("email", "organisation__name")
    raw_id_fields = ("user", "invited_by")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation", "role", "prefix", "created_at", "revoked_at")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")
    list_select_related = ("organisation",)
